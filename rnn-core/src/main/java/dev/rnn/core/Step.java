package dev.rnn.core;

/**
 * The buffers of one time step handed to a {@link Cell}: each a storage and the offset of its
 * first element, every block row-major and contiguous.
 *
 * <p>Shapes (N batch, H hidden, G gates, S saved): {@code xp}, {@code hp}, {@code dxp}, {@code
 * dhp}: {@code [N, G]}; states and their gradients: {@code [N, H]}; {@code saved}: {@code [N, S]}.
 * The scan reuses one step object for every time step of a sequence and moves the offsets, so a
 * cell must not keep it beyond a call.
 *
 * <p>When the cell declares {@link Cell.Projections#SUMMED}, {@link #summed()} is true: {@link
 * #hp()} holds {@code z = xp + hp}, {@link #xp()} is not available, and {@link #dxp()} and {@link
 * #dhp()} are one block.
 */
public final class Step {
  final int stateCount;
  private final DType dtype;
  private final boolean summed;
  int batch;
  int time;
  Storage xp;
  int xpOff;
  Storage hp;
  int hpOff;
  Storage saved;
  int savedOff;
  final Storage[] prev;
  final int[] prevOff;
  final Storage[] next;
  final int[] nextOff;
  Storage dxp;
  int dxpOff;
  Storage dhp;
  int dhpOff;
  final Storage[] dNext;
  final int[] dNextOff;
  final Storage[] dPrev;
  final int[] dPrevOff;
  Storage[] params;
  Storage[] paramGrads;
  /** The scan's scratch for {@code b_ih + b_hh} when it folds them ({@code [G]}), or null. */
  Storage foldedBias;
  /**
   * Under a projection ({@link Scan#outputSize()} below the cell's hidden size): where the scan
   * writes {@code h_t = m_t W_hr^T}, {@code [N, P]}, while the cell writes {@code m_t} to {@link
   * #next(int) next(0)}; null without one.
   */
  Storage out;
  int outOff;
  /**
   * A run with lengths: scratch for {@code W_hh h^T} of the last few rows ({@code [G, n]}), or
   * null (see the scan's summed projections).
   */
  Storage hpT;
  /**
   * A run of the native kernels ({@link Native}): {@code W_hh^T} packed once for the run ({@link
   * PackedWeight#ofGates} under the fused LSTM step), or null for the BLAS path.
   */
  PackedWeight packedHh;
  /**
   * A run whose fused LSTM step projects its input itself ({@link PackedWeight#inputs()} positive):
   * the input {@code x_t} ({@code [N, I]} at {@code xOff}) in place of {@code XP[t]}; else null.
   */
  Storage x;
  int xOff;
  /** A run of the native kernels under a projection: {@code W_hr^T} packed once, or null. */
  PackedWeight packedHr;

  Step(int stateCount, DType dtype, boolean summed) {
    this.stateCount = stateCount;
    this.dtype = dtype;
    this.summed = summed;
    prev = new Storage[stateCount];
    prevOff = new int[stateCount];
    next = new Storage[stateCount];
    nextOff = new int[stateCount];
    dNext = new Storage[stateCount];
    dNextOff = new int[stateCount];
    dPrev = new Storage[stateCount];
    dPrevOff = new int[stateCount];
  }

  /**
   * {@code N}: rows of every block, the sequences running at this step (fewer than the batch
   * once some have ended, when the scan runs with {@link Lengths}).
   *
   * @return {@code N}
   */
  public int batch() {
    return batch;
  }

  /**
   * The time index {@code t} of this step in the sequence (for a reverse direction, too).
   *
   * @return {@code t}
   */
  public int time() {
    return time;
  }

  /** {@return the dtype of every buffer} */
  public DType dtype() {
    return dtype;
  }

  /**
   * Whether the scan has summed the projections, as it does for a cell that declares {@link
   * Cell.Projections#SUMMED}: then {@link #hp()} holds {@code z = xp + hp} ({@code b_ih} and {@code
   * b_hh} included), {@link #xp()} is not available, and {@link #dxp()} and {@link #dhp()} are one
   * block, so backward writes the gradient of {@code z} once.
   *
   * @return true when {@code hp()} holds {@code xp + hp}
   */
  public boolean summed() {
    return summed;
  }

  /**
   * Input side {@code xp = x_t W_ih^T + b_ih}, {@code [N, G]}; forward only.
   *
   * @return the storage holding {@code xp}
   * @throws IllegalStateException if the projections are {@linkplain #summed() summed} (read
   *     {@link #hp()}), or in backward (read what forward saved)
   */
  public Storage xp() {
    if (summed || xp == null) {
      throw new IllegalStateException(summed
          ? "xp is not available: the scan summed the projections, hp() holds xp + hp"
          : "xp is not available in backward: read what forward saved");
    }
    return xp;
  }

  /**
   * Offset of {@link #xp()}.
   *
   * @return the offset
   */
  public int xpOff() {
    return xpOff;
  }

  /**
   * Hidden side {@code hp = h_{t-1} W_hh^T + b_hh}, or {@code z = xp + hp} when {@linkplain
   * #summed() summed}, {@code [N, G]}; forward only, a workspace the cell may overwrite.
   *
   * @return the storage holding {@code hp}
   * @throws IllegalStateException in backward (read what forward saved)
   */
  public Storage hp() {
    if (hp == null) {
      throw new IllegalStateException("hp is not available in backward: read what forward saved");
    }
    return hp;
  }

  /**
   * Offset of {@link #hp()}.
   *
   * @return the offset
   */
  public int hpOff() {
    return hpOff;
  }

  /**
   * What forward saves for backward, {@code [N, S]}.
   *
   * @return the storage holding the saved block
   */
  public Storage saved() {
    return saved;
  }

  /**
   * Offset of {@link #saved()}.
   *
   * @return the offset
   */
  public int savedOff() {
    return savedOff;
  }

  /**
   * Previous state {@code k} (0 = h, 1 = c), {@code [N, H]}.
   *
   * @param k the state
   * @return the storage holding it
   */
  public Storage prev(int k) {
    return prev[k];
  }

  /**
   * Offset of {@link #prev(int)}.
   *
   * @param k the state
   * @return the offset
   */
  public int prevOff(int k) {
    return prevOff[k];
  }

  /**
   * Next state {@code k}, {@code [N, H]}: written by forward, read by backward.
   *
   * @param k the state
   * @return the storage holding it
   */
  public Storage next(int k) {
    return next[k];
  }

  /**
   * Offset of {@link #next(int)}.
   *
   * @param k the state
   * @return the offset
   */
  public int nextOff(int k) {
    return nextOff[k];
  }

  /**
   * Gradient of the input side, {@code [N, G]}: written by backward; the same block as {@link
   * #dhp()} when {@linkplain #summed() summed}.
   *
   * @return the storage holding {@code dxp}
   */
  public Storage dxp() {
    return dxp;
  }

  /**
   * Offset of {@link #dxp()}.
   *
   * @return the offset
   */
  public int dxpOff() {
    return dxpOff;
  }

  /**
   * Gradient of the hidden side, {@code [N, G]}: written by backward; the same block as {@link
   * #dxp()} when {@linkplain #summed() summed}.
   *
   * @return the storage holding {@code dhp}
   */
  public Storage dhp() {
    return dhp;
  }

  /**
   * Offset of {@link #dhp()}.
   *
   * @return the offset
   */
  public int dhpOff() {
    return dhpOff;
  }

  /**
   * Gradient of next state {@code k}, {@code [N, H]}: read by backward (may be overwritten).
   *
   * @param k the state
   * @return the storage holding its gradient
   */
  public Storage dNext(int k) {
    return dNext[k];
  }

  /**
   * Offset of {@link #dNext(int)}.
   *
   * @param k the state
   * @return the offset
   */
  public int dNextOff(int k) {
    return dNextOff[k];
  }

  /**
   * Gradient of previous state {@code k} not through {@code W_hh}: written by backward.
   *
   * @param k the state
   * @return the storage holding its gradient
   */
  public Storage dPrev(int k) {
    return dPrev[k];
  }

  /**
   * Offset of {@link #dPrev(int)}.
   *
   * @param k the state
   * @return the offset
   */
  public int dPrevOff(int k) {
    return dPrevOff[k];
  }

  /**
   * Value of extra parameter {@code i} of {@link Cell#extraParameters()}.
   *
   * @param i the index in {@link Cell#extraParameters()}
   * @return the live value
   */
  public Storage param(int i) {
    return params[i];
  }

  /**
   * Gradient of extra parameter {@code i}: backward adds to it.
   *
   * @param i the index in {@link Cell#extraParameters()}
   * @return the live gradient
   */
  public Storage paramGrad(int i) {
    return paramGrads[i];
  }
}
