/*
 * rnn_native: the recurrent product of a scan with its weight packed once per call.
 *
 *   pack:  P = panels of op(W) [K, N], 64 columns each ([ceil(N/64)][K][64], zero-padded)
 *   gemm:  C[M, N] = init + A[M, K] @ op(W)          init: 0, C itself, or a row-strided source
 *   lstm:  z = XP[t] + h_{t-1} @ W_hh^T in a 6 x 64 register tile, then the LSTM cell's
 *          pointwise step on that tile (the panels hold 16 units of each gate i, f, g, o)
 *   lstmx: the same with the input projection in the tile: z = b + x_t @ W_ih^T + h_{t-1} @
 *          W_hh^T, [W_ih | W_hh]^T packed by gates (packGates2), so no XP[T, N, 4H] is written
 *          and read back (the flops are the same as the one gemm of XP, at the kernel's rate)
 *
 * Loaded by dev.rnn.core.Native; every entry point is float32. The kernels are compiled for
 * AVX-512F and for AVX2+FMA with target attributes; isa() says which ones this processor runs.
 * The pointwise step repeats LstmCell.forward32 operation by operation (no implicit contraction:
 * the file is compiled with -ffp-contract=off; the fused multiply-adds are explicit intrinsics
 * where Java calls Math.fma), so given the same z it gives the same bits.
 */
#include <jni.h>
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define NR 64

enum { ISA_NONE = 0, ISA_AVX2 = 1, ISA_AVX512 = 2 };

JNIEXPORT jint JNICALL Java_dev_rnn_core_Native_cpuIsa(JNIEnv *env, jclass cls) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    return ISA_AVX512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return ISA_AVX2;
  }
  return ISA_NONE;
}

/* ---- packing ---------------------------------------------------------------------------- */

/*
 * Column j of panel p is column n of op(W): gates == 1: n = 64p + j; gates == 4: n = q*units +
 * 16p + (j % 16) with q = j / 16 (the four gates of 16 units side by side). op(W)[k][n] is
 * W[n*ldw + k] when trans, else W[k*ldw + n].
 */
static void pack(const float *w, int ldw, int trans, int n, int k, int gates, float *out,
    int depth, int row0) {
  int units = gates == 4 ? n / 4 : n;
  int panels = gates == 4 ? (units + 15) / 16 : (n + NR - 1) / NR;
  int cols[NR];
  for (int p = 0; p < panels; p++) {
    float *dst = out + ((size_t) p * depth + row0) * NR;
    for (int j = 0; j < NR; j++) {
      if (gates == 4) {
        int u = 16 * p + (j % 16);
        cols[j] = u < units ? (j / 16) * units + u : -1;
      } else {
        cols[j] = NR * p + j < n ? NR * p + j : -1;
      }
    }
    /* In blocks of 16 depths, so that the 4 KB of the panel written stay in cache. */
    for (int k0 = 0; k0 < k; k0 += 16) {
      int k1 = k - k0 < 16 ? k : k0 + 16;
      for (int j = 0; j < NR; j++) {
        int col = cols[j];
        for (int kk = k0; kk < k1; kk++) {
          dst[(size_t) kk * NR + j] = col < 0 ? 0
              : trans ? w[(size_t) col * ldw + kk] : w[(size_t) kk * ldw + col];
        }
      }
    }
  }
}

JNIEXPORT void JNICALL Java_dev_rnn_core_Native_pack(JNIEnv *env, jclass cls, jfloatArray w,
    jint wOff, jint ldw, jboolean trans, jint n, jint k, jint gates, jfloatArray packed) {
  float *pw = (*env)->GetPrimitiveArrayCritical(env, w, NULL);
  float *pp = (*env)->GetPrimitiveArrayCritical(env, packed, NULL);
  pack(pw + wOff, ldw, trans, n, k, gates, pp, k, 0);
  (*env)->ReleasePrimitiveArrayCritical(env, packed, pp, 0);
  (*env)->ReleasePrimitiveArrayCritical(env, w, pw, JNI_ABORT);
}

/*
 * [W_ih | W_hh]^T by gates, for the LSTM step that projects its input itself: each panel's
 * depths [0, ki) hold W_ih^T's rows, [ki, ki + kh) W_hh^T's (depth ki + kh).
 */
JNIEXPORT void JNICALL Java_dev_rnn_core_Native_packGates2(JNIEnv *env, jclass cls,
    jfloatArray wih, jint ki, jfloatArray whh, jint kh, jint n, jfloatArray packed) {
  float *pi = (*env)->GetPrimitiveArrayCritical(env, wih, NULL);
  float *ph = (*env)->GetPrimitiveArrayCritical(env, whh, NULL);
  float *pp = (*env)->GetPrimitiveArrayCritical(env, packed, NULL);
  pack(pi, ki, 1, n, ki, 4, pp, ki + kh, 0);
  pack(ph, kh, 1, n, kh, 4, pp, ki + kh, ki);
  (*env)->ReleasePrimitiveArrayCritical(env, packed, pp, 0);
  (*env)->ReleasePrimitiveArrayCritical(env, whh, ph, JNI_ABORT);
  (*env)->ReleasePrimitiveArrayCritical(env, wih, pi, JNI_ABORT);
}

/*
 * Asks for the lines of rows [0, rows) x columns [0, cols) of a row-strided block, row by row, to
 * read (write = 0) or to write: a panel reads the source of its columns a line or a few per row
 * at a large stride, which no hardware prefetcher follows, so without this each line is a miss
 * to memory (XP[t] of a long sequence is not in cache); asked for all at once at the start of a
 * step, they arrive as a stream while the first panels compute.
 */
static inline void prefetch_block(const float *base, long ld, int rows, int cols, int write) {
  for (int r = 0; r < rows; r++) {
    const char *row = (const char *) (base + r * ld);
    for (int b = 0; b < cols * 4; b += 64) {
      if (write) {
        __builtin_prefetch(row + b, 1, 2);
      } else {
        __builtin_prefetch(row + b, 0, 2);
      }
    }
  }
}

/* ---- AVX-512: 6 x 64 tiles -------------------------------------------------------------- */

#define MR512 6
#ifndef KC
#define KC 512
#endif

/* acc[i][j] = sum_k a[i*lda + k] * b[k*64 + 16j + .], rows i < mr. */
static inline __attribute__((always_inline, target("avx512f")))
void tile512_add(int mr, int k, const float *a, long lda, const float *b,
    __m512 acc[MR512][4]) {
  for (int kk = 0; kk < k; kk++) {
    const float *bk = b + (size_t) kk * NR;
    __m512 b0 = _mm512_loadu_ps(bk);
    __m512 b1 = _mm512_loadu_ps(bk + 16);
    __m512 b2 = _mm512_loadu_ps(bk + 32);
    __m512 b3 = _mm512_loadu_ps(bk + 48);
    for (int i = 0; i < MR512; i++) {
      if (i < mr) {
        __m512 ai = _mm512_set1_ps(a[i * lda + kk]);
        acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
        acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        acc[i][2] = _mm512_fmadd_ps(ai, b2, acc[i][2]);
        acc[i][3] = _mm512_fmadd_ps(ai, b3, acc[i][3]);
      }
    }
  }
}

static inline __attribute__((always_inline, target("avx512f")))
void tile512(int mr, int k, const float *a, long lda, const float *b, __m512 acc[MR512][4]) {
  for (int i = 0; i < MR512; i++)
    for (int j = 0; j < 4; j++) acc[i][j] = _mm512_setzero_ps();
  tile512_add(mr, k, a, lda, b, acc);
}

/*
 * The tile of rows [0, mr) of [X | A] [W_x; W_a] (depths [0, ki) from x, then [ki, ki + k) from
 * a; ki = 0 without an input part), stored to t [6][64]: a function of its own, so that the
 * registers of the pointwise step that follows (its constants) cannot push an accumulator out
 * of the product's loop (gcc spilled one to the stack, a third slower).
 */
static inline __attribute__((always_inline, target("avx512f")))
void tile512x(int mr, int ki, const float *x, long ldx, int k, const float *a, long lda,
    const float *b, __m512 acc[MR512][4]) {
  for (int i = 0; i < MR512; i++)
    for (int j = 0; j < 4; j++) acc[i][j] = _mm512_setzero_ps();
  tile512_add(mr, ki, x, ldx, b, acc);
  tile512_add(mr, k, a, lda, b + (size_t) ki * NR, acc);
}

static __attribute__((noinline, target("avx512f")))
void tile512_to(int mr, int ki, const float *x, long ldx, int k, const float *a, long lda,
    const float *b, float *t) {
  __m512 acc[MR512][4];
  switch (mr) {
    case 1: tile512x(1, ki, x, ldx, k, a, lda, b, acc); break;
    case 2: tile512x(2, ki, x, ldx, k, a, lda, b, acc); break;
    case 3: tile512x(3, ki, x, ldx, k, a, lda, b, acc); break;
    case 4: tile512x(4, ki, x, ldx, k, a, lda, b, acc); break;
    case 5: tile512x(5, ki, x, ldx, k, a, lda, b, acc); break;
    default: tile512x(6, ki, x, ldx, k, a, lda, b, acc); break;
  }
  for (int i = 0; i < MR512; i++) {
    if (i < mr) {
      for (int j = 0; j < 4; j++) _mm512_storeu_ps(t + i * NR + 16 * j, acc[i][j]);
    }
  }
}

static inline __attribute__((always_inline, target("avx512f")))
__mmask16 mask16(int left) {
  return left >= 16 ? (__mmask16) 0xFFFF : left <= 0 ? 0 : (__mmask16) ((1u << left) - 1);
}

/* mode 0: C = A P; 1: C += A P; 2: C = S + A P (S row-strided by lds, 0 for one row). */
static inline __attribute__((always_inline, target("avx512f")))
void gemm512_block(int mr, int k, const float *a, long lda, const float *b, int cols,
    int mode, const float *s, long lds, float *c, long ldc) {
  __m512 acc[MR512][4];
  tile512(mr, k, a, lda, b, acc);
  for (int i = 0; i < mr; i++) {
    for (int j = 0; j < 4; j++) {
      __mmask16 m = mask16(cols - 16 * j);
      if (!m) break;
      float *ci = c + i * ldc + 16 * j;
      __m512 v = acc[i][j];
      if (mode == 1) v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, ci), v);
      else if (mode == 2) v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, s + i * lds + 16 * j), v);
      _mm512_mask_storeu_ps(ci, m, v);
    }
  }
}

static void gemm512_panel(int m, int n, int k, const float *a, long lda, const float *b, int p,
    int mode, const float *s, long lds, float *c, long ldc);

__attribute__((target("avx512f")))
static void gemm512(int m, int n, int k, const float *a, long lda, const float *packed, int p0,
    int p1, int mode, const float *s, long lds, float *c, long ldc) {
  int c0 = p0 * NR;
  int c1 = p1 * NR < n ? p1 * NR : n;
  if (mode == 2 && c0 < c1) {
    if (c0 == 0 && c1 == n && lds == n) {
      prefetch_block(s, 0, 1, m * n, 0);
    } else {
      prefetch_block(s + c0, lds, lds == 0 ? 1 : m, c1 - c0, 0);
    }
  }
  for (int p = p0; p < p1; p++) {
    for (int k0 = 0; k0 < k; k0 += KC) {
      int kc = k - k0 < KC ? k - k0 : KC;
      gemm512_panel(m, n, kc, a + k0, lda, packed + ((size_t) p * k + k0) * NR, p,
          k0 == 0 ? mode : 1, s, lds, c, ldc);
    }
  }
}

/* One panel's columns of C for the depths [k0, k0 + kc) (a and b start there). */
__attribute__((target("avx512f")))
static void gemm512_panel(int m, int n, int k, const float *a, long lda, const float *b, int p,
    int mode, const float *s, long lds, float *c, long ldc) {
  {
    int cols = n - p * NR < NR ? n - p * NR : NR;
    int col = p * NR;
    const float *sp = s == NULL ? NULL : s + col;
    int i = 0;
    for (; i + MR512 <= m; i += MR512) {
      gemm512_block(MR512, k, a + i * lda, lda, b, cols, mode,
          sp == NULL ? NULL : sp + i * lds, lds, c + i * ldc + col, ldc);
    }
    const float *ai = a + i * lda;
    const float *si = sp == NULL ? NULL : sp + i * lds;
    float *ci = c + i * ldc + col;
    switch (m - i) {
      case 1: gemm512_block(1, k, ai, lda, b, cols, mode, si, lds, ci, ldc); break;
      case 2: gemm512_block(2, k, ai, lda, b, cols, mode, si, lds, ci, ldc); break;
      case 3: gemm512_block(3, k, ai, lda, b, cols, mode, si, lds, ci, ldc); break;
      case 4: gemm512_block(4, k, ai, lda, b, cols, mode, si, lds, ci, ldc); break;
      case 5: gemm512_block(5, k, ai, lda, b, cols, mode, si, lds, ci, ldc); break;
      default: break;
    }
  }
}

/*
 * LstmCell's float32 activations, operation by operation (Activation.tanh, sigmoidFast): Horner
 * steps as fused multiply-adds, as Math.fma in Java (both round once), so the bits agree.
 */
static inline __attribute__((always_inline, target("avx512f"))) __m512 tanh512(__m512 x) {
  const __m512 clamp = _mm512_set1_ps(7.93219709396362305f);
  x = _mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), clamp), _mm512_min_ps(clamp, x));
  __m512 x2 = _mm512_mul_ps(x, x);
  __m512 p = _mm512_fmadd_ps(x2, _mm512_set1_ps(-2.76076847742355e-16f),
      _mm512_set1_ps(2.00018790482477e-13f));
  p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(-8.60467152213735e-11f));
  p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(5.12229709037114e-08f));
  p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(1.48572235717979e-05f));
  p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(6.37261928875436e-04f));
  p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(4.89352455891786e-03f));
  __m512 q = _mm512_fmadd_ps(x2, _mm512_set1_ps(1.19825839466702e-06f),
      _mm512_set1_ps(1.18534705686654e-04f));
  q = _mm512_fmadd_ps(x2, q, _mm512_set1_ps(2.26843463243900e-03f));
  q = _mm512_fmadd_ps(x2, q, _mm512_set1_ps(4.89352518554385e-03f));
  return _mm512_mul_ps(x, _mm512_div_ps(p, q));
}

static inline __attribute__((always_inline, target("avx512f"))) __m512 sigmoid512(__m512 x) {
  const __m512 half = _mm512_set1_ps(0.5f);
  return _mm512_fmadd_ps(half, tanh512(_mm512_mul_ps(half, x)), half);
}

/*
 * Row r, units [u0, u0 + 16) of one LSTM step: z = Z + t (t: the product's tile row, four gates
 * of 16, or zeros when Z already holds the sum), then LstmCell.forward32: saved gates (i, f, o
 * by sigmoid512, g by tanh512), c' = fma(f, c, i g), tanh(c') (after the rows x 4H gates),
 * h' = o tanh(c').
 */
static inline __attribute__((always_inline, target("avx512f")))
void lstm_units512(const float *ti, long r, int u0, int hh, int rows, const float *z, long zld,
    const float *c, float *h2, float *c2, float *sv, int stream) {
  __mmask16 m = mask16(hh - u0);
  long g4 = 4L * hh;
  const float *zr = z + r * zld + u0;
  float *svr = sv == NULL ? NULL : sv + r * g4 + u0;
  __m512 ig = sigmoid512(_mm512_add_ps(_mm512_maskz_loadu_ps(m, zr), _mm512_loadu_ps(ti)));
  __m512 fg = sigmoid512(_mm512_add_ps(_mm512_maskz_loadu_ps(m, zr + hh),
      _mm512_loadu_ps(ti + 16)));
  __m512 gg = tanh512(_mm512_add_ps(_mm512_maskz_loadu_ps(m, zr + 2 * hh),
      _mm512_loadu_ps(ti + 32)));
  __m512 og = sigmoid512(_mm512_add_ps(_mm512_maskz_loadu_ps(m, zr + 3 * hh),
      _mm512_loadu_ps(ti + 48)));
  __m512 cp = _mm512_maskz_loadu_ps(m, c + r * hh + u0);
  __m512 cn = _mm512_fmadd_ps(fg, cp, _mm512_mul_ps(ig, gg));
  __m512 tc = tanh512(cn);
  if (sv != NULL && stream) {          /* aligned: past the cache, no read of the lines first */
    _mm512_stream_ps(svr, ig);
    _mm512_stream_ps(svr + hh, fg);
    _mm512_stream_ps(svr + 2 * hh, gg);
    _mm512_stream_ps(svr + 3 * hh, og);
    _mm512_stream_ps(sv + rows * g4 + r * hh + u0, tc);
  } else if (sv != NULL) {                     /* NULL: an unrecorded step, nothing saved */
    _mm512_mask_storeu_ps(svr, m, ig);
    _mm512_mask_storeu_ps(svr + hh, m, fg);
    _mm512_mask_storeu_ps(svr + 2 * hh, m, gg);
    _mm512_mask_storeu_ps(svr + 3 * hh, m, og);
    _mm512_mask_storeu_ps(sv + rows * g4 + r * hh + u0, m, tc);
  }
  _mm512_mask_storeu_ps(c2 + r * hh + u0, m, cn);
  _mm512_mask_storeu_ps(h2 + r * hh + u0, m, _mm512_mul_ps(og, tc));
}

/* Rows [row0, row0 + mr) of the units [u0, u0 + 16): the product's tile, then the cell. */
static inline __attribute__((always_inline, target("avx512f")))
void lstm512_block(int mr, int ki, const float *x, long ldx, int k, const float *a, long lda,
    const float *b, int hh, int u0, int rows, const float *z, long zld, const float *c,
    float *h2, float *c2, float *sv, int row0, int stream) {
  float t[MR512 * NR];
  tile512_to(mr, ki, x, ldx, k, a, lda, b, t);
  for (int i = 0; i < mr; i++) {
    lstm_units512(t + i * NR, row0 + i, u0, hh, rows, z, zld, c, h2, c2, sv, stream);
  }
}

/* The cell alone, z already summed (a step without packed weights: streaming). */
__attribute__((target("avx512f")))
static void lstm_cell512(int m, int hh, const float *z, const float *c, float *h2, float *c2,
    float *sv) {
  static const float zeros[NR];
  for (int r = 0; r < m; r++) {
    for (int u0 = 0; u0 < hh; u0 += 16) {
      lstm_units512(zeros, r, u0, hh, m, z, 4L * hh, c, h2, c2, sv, 0);
    }
  }
}

/*
 * One LSTM step for the units of panels [p0, p1): z = Z + [x_t | h] [W_ih; W_hh]^T tile by tile
 * (ki = 0: z = Z + h W_hh^T, Z = XP[t] with row stride zld = 4H; ki = I: the input projected
 * here, Z the bias with row stride 0), then the cell on each tile.
 */
__attribute__((target("avx512f")))
static void lstm512(int m, int hh, int ki, const float *x, long ldx, int k, const float *a,
    long lda, const float *packed, int p0, int p1, const float *z, long zld, const float *c,
    float *h2, float *c2, float *sv) {
  int u0 = 16 * p0;
  int u1 = 16 * p1 < hh ? 16 * p1 : hh;
  /*
   * A recorded step's saved block (5 H floats a row, 33 MB a layer for lstm-l) is read again only
   * by the backward pass, after the whole sequence: when it starts at a 64-byte boundary (the
   * scan aligns it, Native.alignment) and H is a multiple of 16, every store of it is a whole
   * aligned line, written with streaming stores, which skip reading each line into the cache
   * first and do not push the weights and states out of it (lstm-l's recorded forward: 4-5 ms
   * less per layer). The same values either way; sfence at the end orders them before the
   * caller (or the other thread's join) goes on.
   */
  int stream = sv != NULL && hh % 16 == 0 && ((uintptr_t) sv & 63) == 0;
  if (zld != 0) {
    if (u0 == 0 && u1 == hh) {
      /* All units: z is one contiguous block, asked for as one stream. */
      prefetch_block(z, zld, m, (int) zld, 0);
    } else {
      for (int q = 0; q < 4 && u0 < u1; q++) {
        prefetch_block(z + q * hh + u0, zld, m, u1 - u0, 0);
      }
    }
  }
  if (ki > 0 && p0 < p1) {
    prefetch_block(x, ldx, m, ki, 0);
  }
  if (u0 == 0 && u1 == hh) {
    for (int r = 0; r < m * hh; r += 16) {
      __builtin_prefetch(h2 + r, 1, 2);
      __builtin_prefetch(c2 + r, 1, 2);
    }
  } else if (u0 < u1) {
    prefetch_block(h2 + u0, hh, m, u1 - u0, 1);
    prefetch_block(c2 + u0, hh, m, u1 - u0, 1);
  }
  for (int p = p0; p < p1; p++) {
    const float *b = packed + (size_t) p * (ki + k) * NR;
    int u0 = 16 * p;
    int i = 0;
    for (; i + MR512 <= m; i += MR512) {
      lstm512_block(MR512, ki, x + i * ldx, ldx, k, a + i * lda, lda, b, hh, u0, m, z, zld, c,
          h2, c2, sv, i, stream);
    }
    const float *xi = x + i * ldx;
    const float *ai = a + i * lda;
    switch (m - i) {
      case 1: lstm512_block(1, ki, xi, ldx, k, ai, lda, b, hh, u0, m, z, zld, c, h2, c2, sv, i, stream);
        break;
      case 2: lstm512_block(2, ki, xi, ldx, k, ai, lda, b, hh, u0, m, z, zld, c, h2, c2, sv, i, stream);
        break;
      case 3: lstm512_block(3, ki, xi, ldx, k, ai, lda, b, hh, u0, m, z, zld, c, h2, c2, sv, i, stream);
        break;
      case 4: lstm512_block(4, ki, xi, ldx, k, ai, lda, b, hh, u0, m, z, zld, c, h2, c2, sv, i, stream);
        break;
      case 5: lstm512_block(5, ki, xi, ldx, k, ai, lda, b, hh, u0, m, z, zld, c, h2, c2, sv, i, stream);
        break;
      default: break;
    }
  }
  if (stream) _mm_sfence();
}

/* ---- AVX2 + FMA: 3 x 32 tiles, two per panel --------------------------------------------- */

#define MR256 3

static inline __attribute__((always_inline, target("avx2,fma")))
void gemm256_block(int mr, int k, const float *a, long lda, const float *b, int cols,
    int mode, const float *s, long lds, float *c, long ldc) {
  __m256 acc[MR256][4];
  for (int i = 0; i < MR256; i++)
    for (int j = 0; j < 4; j++) acc[i][j] = _mm256_setzero_ps();
  for (int kk = 0; kk < k; kk++) {
    const float *bk = b + (size_t) kk * NR;
    __m256 b0 = _mm256_loadu_ps(bk);
    __m256 b1 = _mm256_loadu_ps(bk + 8);
    __m256 b2 = _mm256_loadu_ps(bk + 16);
    __m256 b3 = _mm256_loadu_ps(bk + 24);
    for (int i = 0; i < MR256; i++) {
      if (i < mr) {
        __m256 ai = _mm256_broadcast_ss(a + i * lda + kk);
        acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
        acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
        acc[i][2] = _mm256_fmadd_ps(ai, b2, acc[i][2]);
        acc[i][3] = _mm256_fmadd_ps(ai, b3, acc[i][3]);
      }
    }
  }
  for (int i = 0; i < mr; i++) {
    float t[32];
    for (int j = 0; j < 4; j++) _mm256_storeu_ps(t + 8 * j, acc[i][j]);
    float *ci = c + i * ldc;
    const float *si = s == NULL ? NULL : s + i * lds;
    for (int j = 0; j < cols; j++) {
      ci[j] = mode == 1 ? ci[j] + t[j] : mode == 2 ? si[j] + t[j] : t[j];
    }
  }
}

__attribute__((target("avx2,fma")))
static void gemm256(int m, int n, int k, const float *a, long lda, const float *packed, int p0,
    int p1, int mode, const float *s, long lds, float *c, long ldc) {
  for (int p = p0; p < p1; p++) {
    for (int half = 0; half < 2; half++) {
      int col = p * NR + 32 * half;
      if (col >= n) break;
      const float *b = packed + (size_t) p * k * NR + 32 * half;
      int cols = n - col < 32 ? n - col : 32;
      const float *sp = s == NULL ? NULL : s + col;
      int i = 0;
      for (; i + MR256 <= m; i += MR256) {
        gemm256_block(MR256, k, a + i * lda, lda, b, cols, mode,
            sp == NULL ? NULL : sp + i * lds, lds, c + i * ldc + col, ldc);
      }
      const float *ai = a + i * lda;
      const float *si = sp == NULL ? NULL : sp + i * lds;
      float *ci = c + i * ldc + col;
      switch (m - i) {
        case 1: gemm256_block(1, k, ai, lda, b, cols, mode, si, lds, ci, ldc); break;
        case 2: gemm256_block(2, k, ai, lda, b, cols, mode, si, lds, ci, ldc); break;
        default: break;
      }
    }
  }
}

/* ---- JNI entry points ------------------------------------------------------------------- */

JNIEXPORT void JNICALL Java_dev_rnn_core_Native_gemm(JNIEnv *env, jclass cls, jint isa,
    jint m, jint n, jint k, jfloatArray a, jint aOff, jint lda, jfloatArray packed, jint p0,
    jint p1, jint mode, jfloatArray s, jint sOff, jint lds, jfloatArray c, jint cOff, jint ldc) {
  float *pa = (*env)->GetPrimitiveArrayCritical(env, a, NULL);
  float *pp = (*env)->GetPrimitiveArrayCritical(env, packed, NULL);
  float *ps = mode == 2 ? (*env)->GetPrimitiveArrayCritical(env, s, NULL) : NULL;
  float *pc = (*env)->GetPrimitiveArrayCritical(env, c, NULL);
  const float *src = ps == NULL ? NULL : ps + sOff;
  if (isa == ISA_AVX512) {
    gemm512(m, n, k, pa + aOff, lda, pp, p0, p1, mode, src, lds, pc + cOff, ldc);
  } else {
    gemm256(m, n, k, pa + aOff, lda, pp, p0, p1, mode, src, lds, pc + cOff, ldc);
  }
  (*env)->ReleasePrimitiveArrayCritical(env, c, pc, 0);
  if (ps != NULL) (*env)->ReleasePrimitiveArrayCritical(env, s, ps, JNI_ABORT);
  (*env)->ReleasePrimitiveArrayCritical(env, packed, pp, JNI_ABORT);
  (*env)->ReleasePrimitiveArrayCritical(env, a, pa, JNI_ABORT);
}

/*
 * Pins n Java arrays for a kernel: ptr[i] is arr[i]'s elements, NULL for a NULL array. The arrays
 * may coincide (h, c and their successors are slots of one buffer each): an array given twice is
 * pinned once and shares its pointer.
 */
static void pin_all(JNIEnv *env, int n, jfloatArray *arr, float **ptr) {
  for (int i = 0; i < n; i++) {
    ptr[i] = NULL;
    for (int j = 0; j < i; j++) {
      if ((*env)->IsSameObject(env, arr[i], arr[j])) ptr[i] = ptr[j];
    }
    if (ptr[i] == NULL && arr[i] != NULL) {
      ptr[i] = (*env)->GetPrimitiveArrayCritical(env, arr[i], NULL);
    }
  }
}

/* Releases what pin_all pinned, in reverse order, each array once, its elements kept. */
static void unpin_all(JNIEnv *env, int n, jfloatArray *arr, float **ptr) {
  for (int i = n - 1; i >= 0; i--) {
    if (ptr[i] == NULL) continue;
    int first = 1;
    for (int j = 0; j < i; j++) {
      if (ptr[j] == ptr[i]) first = 0;
    }
    if (first) (*env)->ReleasePrimitiveArrayCritical(env, arr[i], ptr[i], 0);
  }
}

/* The index of the first element of a at a 64-byte boundary (Native.alignment). */
JNIEXPORT jint JNICALL Java_dev_rnn_core_Native_alignment(JNIEnv *env, jclass cls,
    jfloatArray a) {
  float *p = (*env)->GetPrimitiveArrayCritical(env, a, NULL);
  jint index = (jint) (((64 - ((uintptr_t) p & 63)) & 63) / sizeof(float));
  (*env)->ReleasePrimitiveArrayCritical(env, a, p, JNI_ABORT);
  return index;
}

JNIEXPORT void JNICALL Java_dev_rnn_core_Native_lstm(JNIEnv *env, jclass cls, jint m, jint hh,
    jint k, jfloatArray a, jint aOff, jint lda, jfloatArray packed, jint p0, jint p1,
    jfloatArray z, jint zOff, jfloatArray c, jint cOff, jfloatArray h2, jint h2Off,
    jfloatArray c2, jint c2Off, jfloatArray sv, jint svOff) {
  jfloatArray arr[7] = {a, packed, z, c, h2, c2, sv};
  float *ptr[7];
  pin_all(env, 7, arr, ptr);
  lstm512(m, hh, 0, NULL, 0, k, ptr[0] + aOff, lda, ptr[1], p0, p1, ptr[2] + zOff, 4L * hh,
      ptr[3] + cOff, ptr[4] + h2Off, ptr[5] + c2Off, ptr[6] == NULL ? NULL : ptr[6] + svOff);
  unpin_all(env, 7, arr, ptr);
}

/*
 * One LSTM step that projects its input itself: z = b + [x_t | h] [W_ih; W_hh]^T (packed by
 * packGates2; the bias b [4H] at bOff), then the cell, for the units of panels [p0, p1).
 */
JNIEXPORT void JNICALL Java_dev_rnn_core_Native_lstmx(JNIEnv *env, jclass cls, jint m, jint hh,
    jint ki, jfloatArray x, jint xOff, jint k, jfloatArray a, jint aOff, jfloatArray packed,
    jint p0, jint p1, jint bOff, jfloatArray c, jint cOff, jfloatArray h2, jint h2Off,
    jfloatArray c2, jint c2Off, jfloatArray sv, jint svOff) {
  jfloatArray arr[7] = {x, a, packed, c, h2, c2, sv};
  float *ptr[7];
  pin_all(env, 7, arr, ptr);
  lstm512(m, hh, ki, ptr[0] + xOff, ki, k, ptr[1] + aOff, k, ptr[2], p0, p1, ptr[2] + bOff, 0,
      ptr[3] + cOff, ptr[4] + h2Off, ptr[5] + c2Off, ptr[6] == NULL ? NULL : ptr[6] + svOff);
  unpin_all(env, 7, arr, ptr);
}

JNIEXPORT void JNICALL Java_dev_rnn_core_Native_lstmCell(JNIEnv *env, jclass cls, jint m,
    jint hh, jfloatArray z, jint zOff, jfloatArray c, jint cOff, jfloatArray h2, jint h2Off,
    jfloatArray c2, jint c2Off, jfloatArray sv, jint svOff) {
  jfloatArray arr[5] = {z, c, h2, c2, sv};
  float *ptr[5];
  pin_all(env, 5, arr, ptr);
  lstm_cell512(m, hh, ptr[0] + zOff, ptr[1] + cOff, ptr[2] + h2Off, ptr[3] + c2Off,
      ptr[4] + svOff);
  unpin_all(env, 5, arr, ptr);
}

/*
 * ---- the LSTM cell's backward (LstmCell.backward32, operation by operation) ---------------
 *
 * For rows [0, m) of a block: the saved gates (i, f, g, o) of row r at sv + 4H r, tanh(c') at
 * tc + H r (tc: the rows' tanh block, which follows the step's rows x 4H gates; a block of a
 * step's rows passes its own part of both).
 */

__attribute__((target("avx512f")))
static void lstm_back512(int m, int hh, const float *sv, const float *tcb, const float *c,
    const float *dh2, const float *dc2, float *dg, float *dc) {
  const __m512 one = _mm512_set1_ps(1.0f);
  long g4 = 4L * hh;
  for (long r = 0; r < m; r++) {
    const float *v = sv + r * g4;
    float *d = dg + r * g4;
    for (int j = 0; j < hh; j += 16) {
      __mmask16 k = mask16(hh - j);
      __m512 i = _mm512_maskz_loadu_ps(k, v + j);
      __m512 f = _mm512_maskz_loadu_ps(k, v + hh + j);
      __m512 g = _mm512_maskz_loadu_ps(k, v + 2 * hh + j);
      __m512 o = _mm512_maskz_loadu_ps(k, v + 3 * hh + j);
      __m512 tc = _mm512_maskz_loadu_ps(k, tcb + r * hh + j);
      __m512 dh = _mm512_maskz_loadu_ps(k, dh2 + r * hh + j);
      __m512 cp = _mm512_maskz_loadu_ps(k, c + r * hh + j);
      __m512 dct = _mm512_add_ps(_mm512_maskz_loadu_ps(k, dc2 + r * hh + j),
          _mm512_mul_ps(_mm512_mul_ps(dh, o), _mm512_sub_ps(one, _mm512_mul_ps(tc, tc))));
      _mm512_mask_storeu_ps(d + j, k, _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dct, g), i),
          _mm512_sub_ps(one, i)));
      _mm512_mask_storeu_ps(d + hh + j, k, _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dct, cp),
          f), _mm512_sub_ps(one, f)));
      _mm512_mask_storeu_ps(d + 2 * hh + j, k, _mm512_mul_ps(_mm512_mul_ps(dct, i),
          _mm512_sub_ps(one, _mm512_mul_ps(g, g))));
      _mm512_mask_storeu_ps(d + 3 * hh + j, k, _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dh, tc),
          o), _mm512_sub_ps(one, o)));
      _mm512_mask_storeu_ps(dc + r * hh + j, k, _mm512_mul_ps(dct, f));
    }
  }
}

JNIEXPORT void JNICALL Java_dev_rnn_core_Native_lstmCellBackward(JNIEnv *env, jclass cls,
    jint m, jint hh, jfloatArray sv, jint svOff, jint tcOff, jfloatArray c, jint cOff,
    jfloatArray dh2, jint dh2Off, jfloatArray dc2, jint dc2Off, jfloatArray dg, jint dgOff,
    jfloatArray dc, jint dcOff) {
  jfloatArray arr[6] = {sv, c, dh2, dc2, dg, dc};
  float *ptr[6];
  pin_all(env, 6, arr, ptr);
  lstm_back512(m, hh, ptr[0] + svOff, ptr[0] + tcOff, ptr[1] + cOff, ptr[2] + dh2Off,
      ptr[3] + dc2Off, ptr[4] + dgOff, ptr[5] + dcOff);
  unpin_all(env, 6, arr, ptr);
}

/* ---- many rows by one weight (PackedWeight.of, not transposed) and column sums ---------- */

/* B [K, N] row-major (row stride ldb) into panels of 64 columns, [ceil(N/64)][K][64], zero-padded:
 * pack() with trans = 0 and gates = 1, a row of a panel copied at once. */
__attribute__((target("avx512f")))
static void pack512_rows(const float *b, long ldb, int n, int k, float *out) {
  int panels = (n + NR - 1) / NR;
  for (int p = 0; p < panels; p++) {
    float *dst = out + (size_t) p * k * NR;
    const float *src = b + p * NR;
    int cols = n - p * NR;
    for (int kk = 0; kk < k; kk++) {
      for (int j = 0; j < NR; j += 16) {
        _mm512_storeu_ps(dst + (size_t) kk * NR + j,
            _mm512_maskz_loadu_ps(mask16(cols - j), src + (size_t) kk * ldb + j));
      }
    }
  }
}

JNIEXPORT void JNICALL Java_dev_rnn_core_Native_packRows(JNIEnv *env, jclass cls,
    jfloatArray b, jint bOff, jint ldb, jint n, jint k, jfloatArray packed) {
  float *pb = (*env)->GetPrimitiveArrayCritical(env, b, NULL);
  float *pp = (*env)->GetPrimitiveArrayCritical(env, packed, NULL);
  pack512_rows(pb + bOff, ldb, n, k, pp);
  (*env)->ReleasePrimitiveArrayCritical(env, packed, pp, 0);
  (*env)->ReleasePrimitiveArrayCritical(env, b, pb, JNI_ABORT);
}

/*
 * ---- column sums: out[c] += sum_r m[r * cols + c], the rows in order ----------------------
 *
 * The bias gradient of a product over a whole sequence (db = colsum(dZ)): Float32Storage's loop
 * adds the rows to out one by one; here blocks of COLSUM_ROWS rows are added to each 16 columns
 * of out in a register (out, one row of sums, stays in L1), the same float additions in the same
 * order per column (rows in order), so the same bits. The rows are read in order, as a stream:
 * walking all the rows for each 64 columns (a stride of a row, 8 KB for lstm-l, a page every
 * other row) ran at a third of the memory's rate (2.1 ms for lstm-l's 3200 x 2048).
 */
#define COLSUM_ROWS 8

__attribute__((target("avx512f")))
static void colsum512(const float *m, int rows, int cols, float *out) {
  for (long r0 = 0; r0 < rows; r0 += COLSUM_ROWS) {
    int rb = rows - r0 < COLSUM_ROWS ? (int) (rows - r0) : COLSUM_ROWS;
    const float *block = m + r0 * cols;
    for (int c0 = 0; c0 < cols; c0 += 16) {
      __mmask16 k = mask16(cols - c0);
      __m512 s = _mm512_maskz_loadu_ps(k, out + c0);
      for (int i = 0; i < rb; i++) {
        s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(k, block + (long) i * cols + c0));
      }
      _mm512_mask_storeu_ps(out + c0, k, s);
    }
  }
}

JNIEXPORT void JNICALL Java_dev_rnn_core_Native_addColumnSums(JNIEnv *env, jclass cls,
    jfloatArray m, jint mOff, jint rows, jint cols, jfloatArray out, jint off) {
  jfloatArray arr[2] = {m, out};
  float *ptr[2];
  pin_all(env, 2, arr, ptr);
  colsum512(ptr[0] + mOff, rows, cols, ptr[1] + off);
  unpin_all(env, 2, arr, ptr);
}

/*
 * ---- the GRU cell's pointwise step (GruCell.forward32 / backward32, operation by operation) --
 *
 * One step of m rows; xp and hp [m, 3H] (gates r, z, n), h and h' [m, H]; the saved block as
 * GruCell lays it out: [r z] [m, 2H], then n [m, H], then hn [m, H]. Forward:
 *   [r z] = sigmoid512(xp + hp), n = tanh512(xn + r hn) (product, then sum: Java's order),
 *   h' = n + z (h - n).
 * Backward (dh' given): dz = dh' (h - n) z (1 - z), dn = dh' (1 - z) (1 - n n),
 *   dr = dn hn r (1 - r), each product left to right as Java evaluates it; dxp = [dr dz dn],
 *   dhp = [dr dz dn r], dh = dh' z.
 */
/* Rows ahead whose data the GRU kernels prefetch: their buffers stream from memory. */
#define GRU_AHEAD 4

__attribute__((target("avx512f")))
static void gru_cell512(int m, int hh, const float *xp, const float *hp, const float *h,
    float *h2, float *sv) {
  long g3 = 3L * hh;
  float *rzb = sv, *nb = sv + 2L * m * hh, *hnb = sv + 3L * m * hh;
  for (long r = 0; r < m; r++) {
    const float *x = xp + r * g3, *p = hp + r * g3;
    float *rz = rzb + 2 * r * hh, *n = nb + r * hh, *hn = hnb + r * hh;
    for (int j = 0; j < hh; j += 16) {
      __mmask16 k = mask16(hh - j);
      if (r + GRU_AHEAD < m) {
        _mm_prefetch((const char *) (x + GRU_AHEAD * g3 + j), _MM_HINT_T0);
        _mm_prefetch((const char *) (x + GRU_AHEAD * g3 + hh + j), _MM_HINT_T0);
        _mm_prefetch((const char *) (x + GRU_AHEAD * g3 + 2 * hh + j), _MM_HINT_T0);
        _mm_prefetch((const char *) (h + (r + GRU_AHEAD) * hh + j), _MM_HINT_T0);
        _mm_prefetch((const char *) (rz + 2 * GRU_AHEAD * hh + j), _MM_HINT_ET0);
        _mm_prefetch((const char *) (rz + 2 * GRU_AHEAD * hh + hh + j), _MM_HINT_ET0);
        _mm_prefetch((const char *) (n + GRU_AHEAD * hh + j), _MM_HINT_ET0);
        _mm_prefetch((const char *) (hn + GRU_AHEAD * hh + j), _MM_HINT_ET0);
        _mm_prefetch((const char *) (h2 + (r + GRU_AHEAD) * hh + j), _MM_HINT_ET0);
      }
      __m512 rg = sigmoid512(_mm512_add_ps(_mm512_maskz_loadu_ps(k, x + j),
          _mm512_maskz_loadu_ps(k, p + j)));
      __m512 zg = sigmoid512(_mm512_add_ps(_mm512_maskz_loadu_ps(k, x + hh + j),
          _mm512_maskz_loadu_ps(k, p + hh + j)));
      __m512 hng = _mm512_maskz_loadu_ps(k, p + 2 * hh + j);
      __m512 ng = tanh512(_mm512_add_ps(_mm512_maskz_loadu_ps(k, x + 2 * hh + j),
          _mm512_mul_ps(rg, hng)));
      __m512 hv = _mm512_maskz_loadu_ps(k, h + r * hh + j);
      _mm512_mask_storeu_ps(rz + j, k, rg);
      _mm512_mask_storeu_ps(rz + hh + j, k, zg);
      _mm512_mask_storeu_ps(n + j, k, ng);
      _mm512_mask_storeu_ps(hn + j, k, hng);
      _mm512_mask_storeu_ps(h2 + r * hh + j, k,
          _mm512_add_ps(ng, _mm512_mul_ps(zg, _mm512_sub_ps(hv, ng))));
    }
  }
}

__attribute__((target("avx512f")))
static void gru_back512(int m, int hh, const float *sv, const float *h, const float *dh2,
    float *dxp, float *dhp, float *dh) {
  const __m512 one = _mm512_set1_ps(1.0f);
  long g3 = 3L * hh;
  const float *rzb = sv, *nb = sv + 2L * m * hh, *hnb = sv + 3L * m * hh;
  for (long r = 0; r < m; r++) {
    const float *rz = rzb + 2 * r * hh, *n = nb + r * hh, *hn = hnb + r * hh;
    float *dx = dxp + r * g3, *dp = dhp + r * g3;
    for (int j = 0; j < hh; j += 16) {
      __mmask16 k = mask16(hh - j);
      if (r + GRU_AHEAD < m) {
        _mm_prefetch((const char *) (rz + 2 * GRU_AHEAD * hh + j), _MM_HINT_T0);
        _mm_prefetch((const char *) (rz + 2 * GRU_AHEAD * hh + hh + j), _MM_HINT_T0);
        _mm_prefetch((const char *) (n + GRU_AHEAD * hh + j), _MM_HINT_T0);
        _mm_prefetch((const char *) (hn + GRU_AHEAD * hh + j), _MM_HINT_T0);
        _mm_prefetch((const char *) (h + (r + GRU_AHEAD) * hh + j), _MM_HINT_T0);
        _mm_prefetch((const char *) (dx + GRU_AHEAD * g3 + j), _MM_HINT_ET0);
        _mm_prefetch((const char *) (dx + GRU_AHEAD * g3 + hh + j), _MM_HINT_ET0);
        _mm_prefetch((const char *) (dx + GRU_AHEAD * g3 + 2 * hh + j), _MM_HINT_ET0);
        _mm_prefetch((const char *) (dp + GRU_AHEAD * g3 + j), _MM_HINT_ET0);
        _mm_prefetch((const char *) (dp + GRU_AHEAD * g3 + hh + j), _MM_HINT_ET0);
        _mm_prefetch((const char *) (dp + GRU_AHEAD * g3 + 2 * hh + j), _MM_HINT_ET0);
      }
      __m512 rg = _mm512_maskz_loadu_ps(k, rz + j);
      __m512 zg = _mm512_maskz_loadu_ps(k, rz + hh + j);
      __m512 ng = _mm512_maskz_loadu_ps(k, n + j);
      __m512 hng = _mm512_maskz_loadu_ps(k, hn + j);
      __m512 g = _mm512_maskz_loadu_ps(k, dh2 + r * hh + j);
      __m512 hv = _mm512_maskz_loadu_ps(k, h + r * hh + j);
      __m512 dz = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(g, _mm512_sub_ps(hv, ng)), zg),
          _mm512_sub_ps(one, zg));
      __m512 dn = _mm512_mul_ps(_mm512_mul_ps(g, _mm512_sub_ps(one, zg)),
          _mm512_sub_ps(one, _mm512_mul_ps(ng, ng)));
      __m512 dr = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dn, hng), rg),
          _mm512_sub_ps(one, rg));
      _mm512_mask_storeu_ps(dx + j, k, dr);
      _mm512_mask_storeu_ps(dx + hh + j, k, dz);
      _mm512_mask_storeu_ps(dx + 2 * hh + j, k, dn);
      _mm512_mask_storeu_ps(dp + j, k, dr);
      _mm512_mask_storeu_ps(dp + hh + j, k, dz);
      _mm512_mask_storeu_ps(dp + 2 * hh + j, k, _mm512_mul_ps(dn, rg));
      _mm512_mask_storeu_ps(dh + r * hh + j, k, _mm512_mul_ps(g, zg));
    }
  }
}

JNIEXPORT void JNICALL Java_dev_rnn_core_Native_gruCell(JNIEnv *env, jclass cls, jint m,
    jint hh, jfloatArray xp, jint xpOff, jfloatArray hp, jint hpOff, jfloatArray h, jint hOff,
    jfloatArray h2, jint h2Off, jfloatArray sv, jint svOff) {
  jfloatArray arr[5] = {xp, hp, h, h2, sv};
  float *ptr[5];
  pin_all(env, 5, arr, ptr);
  gru_cell512(m, hh, ptr[0] + xpOff, ptr[1] + hpOff, ptr[2] + hOff, ptr[3] + h2Off,
      ptr[4] + svOff);
  unpin_all(env, 5, arr, ptr);
}

JNIEXPORT void JNICALL Java_dev_rnn_core_Native_gruCellBackward(JNIEnv *env, jclass cls,
    jint m, jint hh, jfloatArray sv, jint svOff, jfloatArray h, jint hOff, jfloatArray dh2,
    jint dh2Off, jfloatArray dxp, jint dxpOff, jfloatArray dhp, jint dhpOff, jfloatArray dh,
    jint dhOff) {
  jfloatArray arr[6] = {sv, h, dh2, dxp, dhp, dh};
  float *ptr[6];
  pin_all(env, 6, arr, ptr);
  gru_back512(m, hh, ptr[0] + svOff, ptr[1] + hOff, ptr[2] + dh2Off, ptr[3] + dxpOff,
      ptr[4] + dhpOff, ptr[5] + dhOff);
  unpin_all(env, 6, arr, ptr);
}
