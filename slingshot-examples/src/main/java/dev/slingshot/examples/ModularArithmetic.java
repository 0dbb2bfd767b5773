package dev.slingshot.examples;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The algorithmic datasets of Power et al. as used by Thilak et al. (2022), Appendix B: every
 * equation {@code a ∘ b = c} of one binary operation over the residues modulo a prime {@code p}
 * (the paper uses p = 97) or over the symmetric group S5 (120 permutations).
 *
 * <p><b>Tokenisation.</b> Token ids {@code 0 .. n-1} are the n elements (residue r has id r; a
 * permutation has the id of its rank in the lexicographic order of its one-line notation, so the
 * identity is 0), id {@code n} is the operation token {@code ∘} and id {@code n+1} is {@code =}. An
 * equation is the sequence {@code [a, ∘, b, =]} ({@link #SEQUENCE_LENGTH} tokens) and its label is
 * {@code c} in {@code 0 .. n-1}: the model reads {@code a ∘ b =} and the output at the last
 * position is classified into the n answers. One dataset holds one operation, so one operation
 * token suffices.
 *
 * <p><b>Split.</b> The equations, in the order a-major then b, are shuffled by a Fisher-Yates
 * shuffle driven by {@code new java.util.Random(seed)} (its algorithm is fixed by the Java
 * specification, so the split is the same on every JVM); the first {@code round(fraction · N)} are
 * the training set, the rest the validation set.
 */
final class ModularArithmetic {

  /** Tokens per equation: {@code a ∘ b =}. */
  static final int SEQUENCE_LENGTH = 4;

  /** The modulus of the paper. */
  static final int PAPER_MODULUS = 97;

  /** The training fractions the paper's sweeps use lie in this range (App. B.3). */
  static final double MIN_TRAIN_FRACTION = 0.3;

  static final double MAX_TRAIN_FRACTION = 0.8;

  /** The 17 operations of Thilak et al., App. B, in the paper's order. */
  enum Operation {
    /** c = a + b (mod p). */
    ADD("add", "a+b", false),
    /** c = a − b (mod p). */
    SUB("sub", "a-b", false),
    /** c = a · b (mod p). */
    MUL("mul", "a*b", false),
    /** c = a ÷ b (mod p), b ≠ 0 (the paper's Fig. 2). */
    DIV("div", "a/b", false),
    /** c = a² + b (mod p). */
    A2_B("a2_b", "a^2+b", false),
    /** c = a³ + b (mod p). */
    A3_B("a3_b", "a^3+b", false),
    /** c = a² + b² (mod p). */
    A2_B2("a2_b2", "a^2+b^2", false),
    /** c = a² + b² + ab (mod p). */
    A2_B2_AB("a2_b2_ab", "a^2+b^2+ab", false),
    /** c = a² + b² + ab + b (mod p). */
    A2_B2_AB_B("a2_b2_ab_b", "a^2+b^2+ab+b", false),
    /** c = a³ + ab (mod p). */
    A3_AB("a3_ab", "a^3+ab", false),
    /** c = a³ + ab² + b (mod p). */
    A3_AB2_B("a3_ab2_b", "a^3+ab^2+b", false),
    /** c = a ÷ b (mod p) if b is odd, otherwise a − b (mod p). */
    DIV_ODD_ELSE_SUB("div_odd_else_sub", "b odd ? a/b : a-b", false),
    /** c = a · b for a, b ∈ S5. */
    S5_MUL("s5_mul", "a.b", true),
    /** c = a · b · a⁻¹ for a, b ∈ S5. */
    S5_CONJ("s5_conj", "a.b.a^-1", true),
    /**
     * c = a · b · a for a, b ∈ S5 (the paper's text prints "x · b · a", a typesetting slip for
     * Power et al.'s x · y · x).
     */
    S5_ABA("s5_aba", "a.b.a", true),
    /** c = a + b (mod p) if a is even, otherwise a · b (mod p). */
    ADD_EVEN_ELSE_MUL("add_even_else_mul", "a even ? a+b : a*b", false),
    /** c = a + b (mod p) if a is even, otherwise a − b (mod p). */
    ADD_EVEN_ELSE_SUB("add_even_else_sub", "a even ? a+b : a-b", false);

    private final String id;
    private final String formula;
    private final boolean permutations;

    Operation(String id, String formula, boolean permutations) {
      this.id = id;
      this.formula = formula;
      this.permutations = permutations;
    }

    /** The short name used on the command line and in run directories ({@code div}). */
    String id() {
      return id;
    }

    /** The formula, for reports. */
    String formula() {
      return formula;
    }

    /** Whether the operands are permutations of S5 rather than residues modulo p. */
    boolean onPermutations() {
      return permutations;
    }

    /** Whether the pair (a, b) is in the dataset (only division excludes b = 0). */
    boolean defined(int a, int b) {
      return this != DIV || b != 0;
    }

    /** The operation by its {@link #id()} or its enum name, case-insensitive. */
    static Operation parse(String name) {
      for (Operation op : values()) {
        if (op.id.equalsIgnoreCase(name) || op.name().equalsIgnoreCase(name)) {
          return op;
        }
      }
      throw new IllegalArgumentException(
          "unknown operation '" + name + "'; known: " + Arrays.toString(ids()));
    }

    static String[] ids() {
      return Arrays.stream(values()).map(Operation::id).toArray(String[]::new);
    }
  }

  private final Operation operation;
  private final int modulus;
  private final int elements;
  private final int[] left;
  private final int[] right;
  private final int[] answer;

  private ModularArithmetic(Operation operation, int modulus) {
    this.operation = operation;
    this.modulus = modulus;
    this.elements = operation.onPermutations() ? Permutations.ORDER : modulus;
    int n = elements;
    int[] l = new int[n * n];
    int[] r = new int[n * n];
    int[] c = new int[n * n];
    int size = 0;
    for (int a = 0; a < n; a++) {
      for (int b = 0; b < n; b++) {
        if (operation.defined(a, b)) {
          l[size] = a;
          r[size] = b;
          c[size] = apply(operation, modulus, a, b);
          size++;
        }
      }
    }
    this.left = Arrays.copyOf(l, size);
    this.right = Arrays.copyOf(r, size);
    this.answer = Arrays.copyOf(c, size);
  }

  /**
   * All equations of {@code operation}; {@code modulus} must be a prime (it is ignored by the S5
   * operations).
   *
   * @throws IllegalArgumentException if a modular operation is given a modulus that is not prime
   */
  static ModularArithmetic of(Operation operation, int modulus) {
    if (!operation.onPermutations() && !isPrime(modulus)) {
      throw new IllegalArgumentException("modulus must be a prime, got " + modulus);
    }
    return new ModularArithmetic(operation, modulus);
  }

  /** c = a ∘ b: residues modulo p, or permutation ranks for the S5 operations. */
  static int apply(Operation op, int p, int a, int b) {
    long x = a;
    long y = b;
    long v =
        switch (op) {
          case ADD -> x + y;
          case SUB -> x - y;
          case MUL -> x * y;
          case DIV -> {
            if (b == 0) {
              throw new ArithmeticException("division by zero modulo " + p);
            }
            yield x * inverse(b, p);
          }
          case A2_B -> x * x + y;
          case A3_B -> x * x % p * x + y;
          case A2_B2 -> x * x + y * y;
          case A2_B2_AB -> x * x + y * y + x * y;
          case A2_B2_AB_B -> x * x + y * y + x * y + y;
          case A3_AB -> x * x % p * x + x * y;
          case A3_AB2_B -> x * x % p * x + x * (y * y % p) + y;
          case DIV_ODD_ELSE_SUB -> (b % 2 == 1) ? x * inverse(b, p) : x - y;
          case ADD_EVEN_ELSE_MUL -> (a % 2 == 0) ? x + y : x * y;
          case ADD_EVEN_ELSE_SUB -> (a % 2 == 0) ? x + y : x - y;
          case S5_MUL -> Permutations.compose(a, b);
          case S5_CONJ -> Permutations.compose(Permutations.compose(a, b), Permutations.inverse(a));
          case S5_ABA -> Permutations.compose(Permutations.compose(a, b), a);
        };
    return op.onPermutations() ? (int) v : (int) Math.floorMod(v, (long) p);
  }

  /** b⁻¹ modulo the prime p (Fermat: b^(p−2)). */
  static long inverse(long b, int p) {
    long result = 1;
    long base = Math.floorMod(b, p);
    for (long e = p - 2; e > 0; e >>= 1) {
      if ((e & 1) == 1) {
        result = result * base % p;
      }
      base = base * base % p;
    }
    return result;
  }

  static boolean isPrime(int n) {
    if (n < 2) {
      return false;
    }
    for (int d = 2; (long) d * d <= n; d++) {
      if (n % d == 0) {
        return false;
      }
    }
    return true;
  }

  Operation operation() {
    return operation;
  }

  int modulus() {
    return modulus;
  }

  /** n: the number of elements (p, or 120 for S5), which is also the number of answer classes. */
  int elements() {
    return elements;
  }

  /** The input vocabulary: the n elements, {@code ∘} and {@code =}. */
  int vocabularySize() {
    return elements + 2;
  }

  int operationToken() {
    return elements;
  }

  int equalsToken() {
    return elements + 1;
  }

  /** The number of equations (p², p(p−1) for division, 120² for S5). */
  int size() {
    return answer.length;
  }

  /** The i-th equation's tokens {@code [a, ∘, b, =]}. */
  int[] tokens(int i) {
    return new int[] {left[i], operationToken(), right[i], equalsToken()};
  }

  /** The i-th equation's answer c. */
  int answer(int i) {
    return answer[i];
  }

  /** The i-th equation's operands (a, b). */
  int left(int i) {
    return left[i];
  }

  int right(int i) {
    return right[i];
  }

  /**
   * The deterministic train/validation split (see the class comment).
   *
   * @throws IllegalArgumentException if the fraction is outside [0.3, 0.8]
   */
  Split split(double trainFraction, long seed) {
    if (!(trainFraction >= MIN_TRAIN_FRACTION && trainFraction <= MAX_TRAIN_FRACTION)) {
      throw new IllegalArgumentException(
          String.format(
              Locale.ROOT,
              "train fraction must be in [%.1f, %.1f], got %s",
              MIN_TRAIN_FRACTION,
              MAX_TRAIN_FRACTION,
              trainFraction));
    }
    int n = size();
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Random random = new Random(seed);
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    int trainSize = (int) Math.round(trainFraction * n);
    return new Split(
        subset(Arrays.copyOfRange(order, 0, trainSize)),
        subset(Arrays.copyOfRange(order, trainSize, n)));
  }

  private Subset subset(int[] indices) {
    int[] tokens = new int[indices.length * SEQUENCE_LENGTH];
    int[] labels = new int[indices.length];
    for (int k = 0; k < indices.length; k++) {
      int i = indices[k];
      System.arraycopy(tokens(i), 0, tokens, k * SEQUENCE_LENGTH, SEQUENCE_LENGTH);
      labels[k] = answer[i];
    }
    return new Subset(indices, tokens, labels);
  }

  /** The training and validation equations. */
  record Split(Subset train, Subset validation) {}

  /**
   * Some equations: their indices in the full dataset, their tokens (row-major, {@link
   * #SEQUENCE_LENGTH} per equation) and their answers.
   */
  record Subset(int[] indices, int[] tokens, int[] labels) {
    int size() {
      return labels.length;
    }
  }

  /**
   * The symmetric group S5: the 120 permutations of {0..4} in lexicographic order of their one-line
   * notation [σ(0), …, σ(4)]. The product follows Power et al. (SymPy's convention): {@code a · b}
   * applies a first, then b, i.e. (a · b)(i) = b(a(i)).
   */
  static final class Permutations {
    static final int DEGREE = 5;
    static final int ORDER = 120;
    private static final int[][] ALL = enumerate();
    private static final int[][] PRODUCT = new int[ORDER][ORDER];
    private static final int[] INVERSE = new int[ORDER];

    static {
      for (int a = 0; a < ORDER; a++) {
        for (int b = 0; b < ORDER; b++) {
          int[] c = new int[DEGREE];
          for (int i = 0; i < DEGREE; i++) {
            c[i] = ALL[b][ALL[a][i]];
          }
          PRODUCT[a][b] = rank(c);
        }
        int[] inv = new int[DEGREE];
        for (int i = 0; i < DEGREE; i++) {
          inv[ALL[a][i]] = i;
        }
        INVERSE[a] = rank(inv);
      }
    }

    private Permutations() {}

    /** The permutation of rank {@code r} in one-line notation (a copy). */
    static int[] permutation(int r) {
      return ALL[r].clone();
    }

    /** The rank of a permutation given in one-line notation. */
    static int rank(int[] sigma) {
      for (int r = 0; r < ORDER; r++) {
        if (Arrays.equals(ALL[r], sigma)) {
          return r;
        }
      }
      throw new IllegalArgumentException("not a permutation of 0..4: " + Arrays.toString(sigma));
    }

    static int compose(int a, int b) {
      return PRODUCT[a][b];
    }

    static int inverse(int a) {
      return INVERSE[a];
    }

    private static int[][] enumerate() {
      List<int[]> out = new ArrayList<>(ORDER);
      permute(new int[DEGREE], new boolean[DEGREE], 0, out);
      return out.toArray(new int[0][]);
    }

    private static void permute(int[] prefix, boolean[] used, int depth, List<int[]> out) {
      if (depth == DEGREE) {
        out.add(prefix.clone());
        return;
      }
      for (int v = 0; v < DEGREE; v++) {
        if (!used[v]) {
          used[v] = true;
          prefix[depth] = v;
          permute(prefix, used, depth + 1, out);
          used[v] = false;
        }
      }
    }
  }
}
