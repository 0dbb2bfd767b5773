package dev.slingshot.djl;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The trainable parameters of a block, in block order, with the roles the cheap tier needs: the
 * last-layer weight, the classifier block's parameters (the block owning the last-layer weight) and
 * the parameter groups. Built from the block's structure alone; no tensor is touched.
 */
final class ParameterLayout {

  final List<String> names = new ArrayList<>();
  final List<Parameter> params = new ArrayList<>();
  final Map<String, Integer> indexById = new HashMap<>();
  final int lastLayer;
  final boolean[] classifier;
  final Map<String, int[]> groups = new LinkedHashMap<>();

  private ParameterLayout(Block block, SlingshotOptions options) {
    List<String> allNames = new ArrayList<>();
    for (Pair<String, Parameter> p : block.getParameters()) {
      allNames.add(p.getKey());
      if (p.getValue().requiresGradient()) {
        indexById.put(p.getValue().getId(), params.size());
        names.add(p.getKey());
        params.add(p.getValue());
      }
    }
    if (params.isEmpty()) {
      throw new IllegalArgumentException(
          "the model has no trainable parameter; its parameters are " + allNames);
    }
    Parameter last;
    if (options.lastLayer() != null) {
      int i = names.indexOf(options.lastLayer());
      if (i < 0) {
        throw new IllegalArgumentException(
            "no trainable parameter named '"
                + options.lastLayer()
                + "'; the model's trainable parameters are "
                + names
                + (allNames.size() > names.size() ? " (all parameters: " + allNames + ")" : ""));
      }
      last = params.get(i);
    } else {
      last = defaultLastLayer(block);
      if (last == null || !indexById.containsKey(last.getId())) {
        last = null;
        for (int i = params.size() - 1; i >= 0 && last == null; i--) {
          if (names.get(i).endsWith("weight")) {
            last = params.get(i);
          }
        }
        if (last == null) {
          last = params.get(params.size() - 1);
        }
      }
    }
    lastLayer = indexById.get(last.getId());
    classifier = new boolean[params.size()];
    Block owner = owner(block, last);
    if (owner != null) {
      for (Pair<String, Parameter> p : owner.getDirectParameters()) {
        Integer i = indexById.get(p.getValue().getId());
        if (i != null) {
          classifier[i] = true;
        }
      }
    }
    classifier[lastLayer] = true;
    if (options.groups().isEmpty()) {
      if (block.getChildren().isEmpty()) {
        groups.put("model", range(params.size()));
      } else {
        for (Pair<String, Block> child : block.getChildren()) {
          List<Integer> members = new ArrayList<>();
          for (Pair<String, Parameter> p : child.getValue().getParameters()) {
            Integer i = indexById.get(p.getValue().getId());
            if (i != null) {
              members.add(i);
            }
          }
          if (!members.isEmpty()) {
            groups.put(child.getKey(), toArray(members));
          }
        }
        List<Integer> own = new ArrayList<>();
        for (Pair<String, Parameter> p : block.getDirectParameters()) {
          Integer i = indexById.get(p.getValue().getId());
          if (i != null) {
            own.add(i);
          }
        }
        if (!own.isEmpty()) {
          groups.put("own", toArray(own));
        }
      }
    } else {
      for (Map.Entry<String, List<String>> g : options.groups().entrySet()) {
        List<Integer> members = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
          for (String prefix : g.getValue()) {
            if (names.get(i).startsWith(prefix)) {
              members.add(i);
              break;
            }
          }
        }
        if (members.isEmpty()) {
          throw new IllegalArgumentException(
              "group '"
                  + g.getKey()
                  + "' with prefixes "
                  + g.getValue()
                  + " matches no trainable parameter; the model's trainable parameters are "
                  + names);
        }
        groups.put(g.getKey(), toArray(members));
      }
    }
  }

  /** Resolves the layout of {@code block}; throws IllegalArgumentException on a bad option. */
  static ParameterLayout of(Block block, SlingshotOptions options) {
    return new ParameterLayout(block, options);
  }

  int size() {
    return params.size();
  }

  String lastLayerName() {
    return names.get(lastLayer);
  }

  /** The weight of the last {@link Linear} block in block order (depth first), or null. */
  private static Parameter defaultLastLayer(Block block) {
    Parameter found = null;
    if (block instanceof Linear) {
      for (Pair<String, Parameter> p : block.getDirectParameters()) {
        if (p.getKey().endsWith("weight")) {
          found = p.getValue();
        }
      }
    }
    for (Pair<String, Block> child : block.getChildren()) {
      Parameter inChild = defaultLastLayer(child.getValue());
      if (inChild != null) {
        found = inChild;
      }
    }
    return found;
  }

  /** The block whose direct parameters include {@code p}, depth first, or null. */
  private static Block owner(Block block, Parameter p) {
    for (Pair<String, Parameter> q : block.getDirectParameters()) {
      if (q.getValue() == p) {
        return block;
      }
    }
    for (Pair<String, Block> child : block.getChildren()) {
      Block b = owner(child.getValue(), p);
      if (b != null) {
        return b;
      }
    }
    return null;
  }

  private static int[] range(int n) {
    int[] r = new int[n];
    for (int i = 0; i < n; i++) {
      r[i] = i;
    }
    return r;
  }

  private static int[] toArray(List<Integer> list) {
    int[] r = new int[list.size()];
    for (int i = 0; i < r.length; i++) {
      r[i] = list.get(i);
    }
    return r;
  }
}
