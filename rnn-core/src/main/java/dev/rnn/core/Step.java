package dev.rnn.core;

/**
 * The buffers of one time step handed to a {@link Cell}: each a storage and the offset of its
 * first element, every block row-major and contiguous.
 *
 * <p>Shapes (N batch, H hidden, G gates, S saved): {@code xp}, {@code hp}, {@code dxp}, {@code
 * dhp}: {@code [N, G]}; states and their gradients: {@code [N, H]}; {@code saved}: {@code [N, S]}.
 * The scan reuses one step object for every time step of a sequence and moves the offsets, so a
 * cell must not keep it beyond a call.
 */
public final class Step {
  final int stateCount;
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

  Step(int stateCount) {
    this.stateCount = stateCount;
    prev = new Storage[stateCount];
    prevOff = new int[stateCount];
    next = new Storage[stateCount];
    nextOff = new int[stateCount];
    dNext = new Storage[stateCount];
    dNextOff = new int[stateCount];
    dPrev = new Storage[stateCount];
    dPrevOff = new int[stateCount];
  }

  /** {@code N}: rows of every block. */
  public int batch() {
    return batch;
  }

  /** The time index {@code t} of this step in the sequence (for a reverse direction, too). */
  public int time() {
    return time;
  }

  /** The dtype of every buffer. */
  public DType dtype() {
    return xp.dtype();
  }

  /** Input side {@code xp = x_t W_ih^T + b_ih}, {@code [N, G]}. */
  public Storage xp() {
    return xp;
  }

  /** Offset of {@link #xp()}. */
  public int xpOff() {
    return xpOff;
  }

  /** Hidden side {@code hp = h_{t-1} W_hh^T + b_hh}, {@code [N, G]}; forward only, scratch. */
  public Storage hp() {
    return hp;
  }

  /** Offset of {@link #hp()}. */
  public int hpOff() {
    return hpOff;
  }

  /** What forward saves for backward, {@code [N, S]}. */
  public Storage saved() {
    return saved;
  }

  /** Offset of {@link #saved()}. */
  public int savedOff() {
    return savedOff;
  }

  /** Previous state {@code k} (0 = h, 1 = c), {@code [N, H]}. */
  public Storage prev(int k) {
    return prev[k];
  }

  /** Offset of {@link #prev(int)}. */
  public int prevOff(int k) {
    return prevOff[k];
  }

  /** Next state {@code k}, {@code [N, H]}: written by forward, read by backward. */
  public Storage next(int k) {
    return next[k];
  }

  /** Offset of {@link #next(int)}. */
  public int nextOff(int k) {
    return nextOff[k];
  }

  /** Gradient of the input side, {@code [N, G]}: written by backward. */
  public Storage dxp() {
    return dxp;
  }

  /** Offset of {@link #dxp()}. */
  public int dxpOff() {
    return dxpOff;
  }

  /** Gradient of the hidden side, {@code [N, G]}: written by backward. */
  public Storage dhp() {
    return dhp;
  }

  /** Offset of {@link #dhp()}. */
  public int dhpOff() {
    return dhpOff;
  }

  /** Gradient of next state {@code k}, {@code [N, H]}: read by backward (may be overwritten). */
  public Storage dNext(int k) {
    return dNext[k];
  }

  /** Offset of {@link #dNext(int)}. */
  public int dNextOff(int k) {
    return dNextOff[k];
  }

  /** Gradient of previous state {@code k} not through {@code W_hh}: written by backward. */
  public Storage dPrev(int k) {
    return dPrev[k];
  }

  /** Offset of {@link #dPrev(int)}. */
  public int dPrevOff(int k) {
    return dPrevOff[k];
  }

  /** Value of extra parameter {@code i} of {@link Cell#extraParameters()}. */
  public Storage param(int i) {
    return params[i];
  }

  /** Gradient of extra parameter {@code i}: backward adds to it. */
  public Storage paramGrad(int i) {
    return paramGrads[i];
  }
}
