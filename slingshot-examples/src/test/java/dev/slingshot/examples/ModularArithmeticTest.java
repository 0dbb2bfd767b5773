package dev.slingshot.examples;

import static dev.slingshot.examples.ModularArithmetic.Operation.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.slingshot.examples.ModularArithmetic.Operation;
import dev.slingshot.examples.ModularArithmetic.Permutations;
import dev.slingshot.examples.ModularArithmetic.Split;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class ModularArithmeticTest {

  @Test
  void theSeventeenOperationsOfAppendixB() {
    assertThat(Operation.values()).hasSize(17);
    assertThat(Arrays.stream(Operation.values()).filter(Operation::onPermutations)).hasSize(3);
    assertThat(Operation.parse("div")).isEqualTo(DIV);
    assertThat(Operation.parse("S5_CONJ")).isEqualTo(S5_CONJ);
    assertThatThrownBy(() -> Operation.parse("pow")).hasMessageContaining("pow");
  }

  /** Hand-computed equations, one or more per operation family, for p = 7 and p = 97. */
  @ParameterizedTest(name = "{0}: {2} op {3} = {4} (mod {1})")
  @CsvSource({
    "ADD, 7, 5, 4, 2",
    "SUB, 7, 2, 5, 4",
    "MUL, 7, 3, 5, 1",
    "DIV, 7, 3, 5, 2",
    "A2_B, 7, 3, 5, 0",
    "A3_B, 7, 2, 6, 0",
    "A2_B2, 7, 3, 4, 4",
    "A2_B2_AB, 7, 2, 3, 5",
    "A2_B2_AB_B, 7, 2, 3, 1",
    "A3_AB, 7, 3, 4, 4",
    "A3_AB2_B, 7, 2, 3, 1",
    "DIV_ODD_ELSE_SUB, 7, 3, 5, 2",
    "DIV_ODD_ELSE_SUB, 7, 3, 4, 6",
    "DIV_ODD_ELSE_SUB, 7, 4, 0, 4",
    "ADD_EVEN_ELSE_MUL, 7, 2, 6, 1",
    "ADD_EVEN_ELSE_MUL, 7, 3, 6, 4",
    "ADD_EVEN_ELSE_SUB, 7, 4, 5, 2",
    "ADD_EVEN_ELSE_SUB, 7, 3, 5, 5",
    "ADD, 97, 90, 20, 13",
    "SUB, 97, 10, 20, 87",
    "MUL, 97, 50, 50, 75",
    "DIV, 97, 1, 2, 49",
    "DIV, 97, 10, 3, 68",
    "A2_B2_AB, 97, 96, 96, 3",
    "A3_AB2_B, 97, 96, 2, 94",
    "A3_B, 97, 5, 0, 28",
    "DIV_ODD_ELSE_SUB, 97, 10, 3, 68",
  })
  void handComputedEquations(Operation op, int p, int a, int b, int c) {
    assertThat(ModularArithmetic.apply(op, p, a, b)).isEqualTo(c);
    ModularArithmetic data = ModularArithmetic.of(op, p);
    int i = indexOf(data, a, b);
    assertThat(data.answer(i)).isEqualTo(c);
    assertThat(data.tokens(i)).containsExactly(a, p, b, p + 1);
  }

  @Test
  void divisionIsTheInverseOfMultiplicationAndExcludesZero() {
    for (int p : new int[] {7, 97}) {
      ModularArithmetic div = ModularArithmetic.of(DIV, p);
      assertThat(div.size()).isEqualTo(p * (p - 1));
      for (int i = 0; i < div.size(); i++) {
        assertThat(div.right(i)).isNotZero();
        assertThat((long) div.answer(i) * div.right(i) % p).isEqualTo(div.left(i));
      }
    }
    assertThatThrownBy(() -> ModularArithmetic.apply(DIV, 7, 3, 0))
        .isInstanceOf(ArithmeticException.class);
  }

  @ParameterizedTest
  @EnumSource(Operation.class)
  void everyEquationIsWellFormed(Operation op) {
    ModularArithmetic data = ModularArithmetic.of(op, 7);
    int n = op.onPermutations() ? 120 : 7;
    assertThat(data.elements()).isEqualTo(n);
    assertThat(data.vocabularySize()).isEqualTo(n + 2);
    assertThat(data.size()).isEqualTo(op == DIV ? n * (n - 1) : n * n);
    for (int i = 0; i < data.size(); i++) {
      assertThat(data.answer(i)).isBetween(0, n - 1);
      assertThat(data.tokens(i)[1]).isEqualTo(n);
      assertThat(data.tokens(i)[3]).isEqualTo(n + 1);
    }
  }

  @Test
  void modulusMustBePrime() {
    assertThatThrownBy(() -> ModularArithmetic.of(ADD, 8)).hasMessageContaining("8");
    assertThat(ModularArithmetic.of(S5_MUL, 8).size()).isEqualTo(120 * 120);
  }

  @Test
  void s5HandExample() {
    // (a · b)(i) = b(a(i)): a swaps 0 and 1, b swaps 1 and 2.
    int a = Permutations.rank(new int[] {1, 0, 2, 3, 4});
    int b = Permutations.rank(new int[] {0, 2, 1, 3, 4});
    assertThat(Permutations.permutation(Permutations.compose(a, b))).containsExactly(2, 0, 1, 3, 4);
    assertThat(Permutations.permutation(0)).containsExactly(0, 1, 2, 3, 4);
    assertThat(Permutations.permutation(119)).containsExactly(4, 3, 2, 1, 0);
  }

  /** Checks the three S5 operations against permutation matrices enumerated by Heap's algorithm. */
  @Test
  void s5AgainstPermutationMatrices() {
    List<int[]> perms = heap();
    perms.sort(Arrays::compare);
    assertThat(perms).hasSize(120);
    int[][][] matrices = perms.stream().map(ModularArithmeticTest::matrix).toArray(int[][][]::new);
    for (int r = 0; r < 120; r++) {
      assertThat(Permutations.permutation(r)).containsExactly(perms.get(r));
    }
    for (int a = 0; a < 120; a++) {
      int[][] ma = matrices[a];
      int[][] maInverse = transpose(ma);
      for (int b = 0; b < 120; b++) {
        int[][] mb = matrices[b];
        assertThat(matrices[ModularArithmetic.apply(S5_MUL, 0, a, b)]).isDeepEqualTo(times(ma, mb));
        assertThat(matrices[ModularArithmetic.apply(S5_CONJ, 0, a, b)])
            .isDeepEqualTo(times(times(ma, mb), maInverse));
        assertThat(matrices[ModularArithmetic.apply(S5_ABA, 0, a, b)])
            .isDeepEqualTo(times(times(ma, mb), ma));
      }
    }
  }

  @Test
  void splitSizesAndDeterminism() {
    ModularArithmetic div = ModularArithmetic.of(DIV, 97);
    Split s = div.split(0.5, 0);
    assertThat(s.train().size()).isEqualTo(4656);
    assertThat(s.validation().size()).isEqualTo(4656);
    Split again = div.split(0.5, 0);
    assertThat(again.train().indices()).isEqualTo(s.train().indices());
    assertThat(again.validation().labels()).isEqualTo(s.validation().labels());
    assertThat(div.split(0.5, 1).train().indices()).isNotEqualTo(s.train().indices());

    Set<Integer> all = new HashSet<>();
    Arrays.stream(s.train().indices()).forEach(all::add);
    Arrays.stream(s.validation().indices()).forEach(all::add);
    assertThat(all).hasSize(div.size());

    ModularArithmetic add7 = ModularArithmetic.of(ADD, 7);
    assertThat(add7.split(0.3, 5).train().size()).isEqualTo(15); // round(0.3 * 49) = 15
    assertThat(add7.split(0.8, 5).train().size()).isEqualTo(39); // round(39.2)
    Split small = add7.split(0.5, 3);
    for (int k = 0; k < small.train().size(); k++) {
      int i = small.train().indices()[k];
      assertThat(Arrays.copyOfRange(small.train().tokens(), 4 * k, 4 * k + 4))
          .containsExactly(add7.tokens(i));
      assertThat(small.train().labels()[k]).isEqualTo(add7.answer(i));
    }
  }

  @ParameterizedTest
  @CsvSource({"0.29", "0.81", "0", "1", "NaN"})
  void trainFractionIsValidated(double fraction) {
    ModularArithmetic add = ModularArithmetic.of(ADD, 7);
    assertThatThrownBy(() -> add.split(fraction, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("train fraction");
  }

  private static int indexOf(ModularArithmetic data, int a, int b) {
    for (int i = 0; i < data.size(); i++) {
      if (data.left(i) == a && data.right(i) == b) {
        return i;
      }
    }
    throw new AssertionError("no equation " + a + ", " + b);
  }

  private static List<int[]> heap() {
    List<int[]> out = new ArrayList<>();
    int[] a = {0, 1, 2, 3, 4};
    int[] c = new int[5];
    out.add(a.clone());
    int i = 0;
    while (i < 5) {
      if (c[i] < i) {
        int j = i % 2 == 0 ? 0 : c[i];
        int t = a[j];
        a[j] = a[i];
        a[i] = t;
        out.add(a.clone());
        c[i]++;
        i = 0;
      } else {
        c[i] = 0;
        i++;
      }
    }
    return out;
  }

  /** P[i][σ(i)] = 1, so that P(a)·P(b) = P(a then b). */
  private static int[][] matrix(int[] sigma) {
    int[][] m = new int[5][5];
    for (int i = 0; i < 5; i++) {
      m[i][sigma[i]] = 1;
    }
    return m;
  }

  private static int[][] times(int[][] x, int[][] y) {
    int[][] z = new int[5][5];
    for (int i = 0; i < 5; i++) {
      for (int j = 0; j < 5; j++) {
        for (int k = 0; k < 5; k++) {
          z[i][j] += x[i][k] * y[k][j];
        }
      }
    }
    return z;
  }

  private static int[][] transpose(int[][] x) {
    int[][] t = new int[5][5];
    for (int i = 0; i < 5; i++) {
      for (int j = 0; j < 5; j++) {
        t[j][i] = x[i][j];
      }
    }
    return t;
  }
}
