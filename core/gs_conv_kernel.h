/* gs_conv_kernel.h — the micro-kernels of the direct 3x3 convolution, written once with
 * GCC vector extensions and instantiated per instruction set by gs_conv_direct.c:
 *
 *   #define KSUF     avx512              suffix of the generated names
 *   #define KTARGET  "avx512f,fma"       __attribute__((target(...)))
 *   #define KVL      16                  floats per vector
 *   #define KNO      8                   output channels per forward tile
 *   #define KNQ      3                   grid vectors per forward tile (KNO·KNQ accumulators)
 *   #define KTAP_UNROLL 9                unrolling of the forward tile's tap loop (with 16
 *                                        registers a full unroll made GCC reload inputs)
 *   #define KWNO     2                   output channels per weight-gradient pass
 *   #define KWKY     3                   kernel rows per weight-gradient pass (KWNO·KWKY·3 accumulators)
 *   #define KHSUM(v) ...                 horizontal sum of one vector, fixed order
 *   #include "gs_conv_kernel.h"
 *
 * It defines (see gs_conv_direct.c for direct_layout and the packed layouts):
 *   fwd_image_<KSUF>(grid, packed, wp, taps, ntap, plane, qlen, C, O_r)
 *       grid (O_r, qlen) = Σ_c Σ_k wp[ob][c][k][o'] · packed[c][q + taps[k]]
 *       packed (C, plane); wp (O_r / KNO, C, ntap, KNO); O_r a multiple of KNO;
 *       ntap ∈ {9, 4, 2, 1}.
 *   wgrad_group_<KSUF>(dwp, packed, doutg, dstride, L, G, C, O_r)
 *       dwp (O_r, C, 9) += Σ_g Σ_q doutg[g][o][q] · packed[g][c][q + tap[k]]
 *       packed (G, C, plane); doutg (G, O_r, dstride ≥ qlen), q < qlen read, with zeros
 *       at dropped grid positions;
 *       O_r a multiple of KWNO.  With KWKY == 3 it runs wgrad_group_rows, which takes
 *       the shifted taps of a row as shifts of its kx = 0 vector and the next one
 *       (KSHIFT(head, next, n); the plane then needs KVL floats beyond the last tap's
 *       reach).
 */

#define KCAT2(a, b) a##_##b
#define KCAT(a, b) KCAT2(a, b)
#define KF(name) KCAT(name, KSUF)
#define KPRAGMA2(x) _Pragma(#x)
#define KPRAGMA(x) KPRAGMA2(x)

typedef float KF(vf) __attribute__((vector_size(KVL * 4)));
typedef float KF(vfu) __attribute__((vector_size(KVL * 4), aligned(4), may_alias));

/* grid rows ob·KNO … +KNO, vectors v0 … v0+nq: one register tile over all C channels
 * and the ntap taps (ntap and nq are constants after inlining). */
__attribute__((target(KTARGET), always_inline)) static inline void
KF(fwd_tile)(float *restrict grid, size_t qlen, const float *restrict packed, size_t plane,
             const float *restrict wp, int C, const int *restrict tap, const int ntap, int v0,
             const int nq)
{
    typedef KF(vf) vf;
    typedef KF(vfu) vfu;
    const int n = nq < KNQ ? nq : KNQ;
    vf acc[KNO][KNQ];
    for (int o = 0; o < KNO; o++)
        for (int j = 0; j < n; j++)
            acc[o][j] = (vf){0};
    int taps[9];
    for (int k = 0; k < ntap; k++)
        taps[k] = tap[k];
    for (int c = 0; c < C; c++) {
        const float *pc = packed + (size_t)c * plane + (size_t)v0 * KVL;
        const float *wc = wp + (size_t)c * ntap * KNO;
        KPRAGMA(GCC unroll KTAP_UNROLL)
        for (int k = 0; k < ntap; k++) {
            vf x[KNQ];
            for (int j = 0; j < n; j++)
                x[j] = *(const vfu *)(pc + taps[k] + j * KVL);
            for (int o = 0; o < KNO; o++) {
                const float wv = wc[k * KNO + o];
                for (int j = 0; j < n; j++)
                    acc[o][j] += x[j] * wv;
            }
        }
    }
    for (int o = 0; o < KNO; o++)
        for (int j = 0; j < n; j++)
            *(vfu *)(grid + (size_t)o * qlen + (size_t)(v0 + j) * KVL) = acc[o][j];
}

__attribute__((target(KTARGET), always_inline)) static inline void
KF(fwd_tiles)(float *restrict grid, const float *restrict packed, const float *restrict wp,
              const int *taps, const int ntap, size_t plane, size_t qlen, int C, int O_r)
{
    const int nv = (int)(qlen / KVL);
    for (int v0 = 0; v0 < nv; v0 += KNQ) {
        const int nq = nv - v0 < KNQ ? nv - v0 : KNQ;
        for (int ob = 0; ob < O_r / KNO; ob++) {
            float *g = grid + (size_t)ob * KNO * qlen;
            const float *w = wp + (size_t)ob * C * ntap * KNO;
            switch (nq) {
#define KFWD_CASE(N) \
            case N: \
                KF(fwd_tile)(g, qlen, packed, plane, w, C, taps, ntap, v0, N); \
                break;
            KFWD_CASE(1)
#if KNQ >= 2
            KFWD_CASE(2)
#endif
#if KNQ >= 3
            KFWD_CASE(3)
#endif
#if KNQ >= 4
            KFWD_CASE(4)
#endif
#if KNQ >= 5
            KFWD_CASE(5)
#endif
#if KNQ >= 6
            KFWD_CASE(6)
#endif
#undef KFWD_CASE
            default:
                break;
            }
        }
    }
}

/* grid (O_r, qlen) = Σ_c Σ_{k < ntap} wp[ob][c][k][o'] · packed[c][q + taps[k]];
 * ntap is 9 (a 3x3 convolution) or 1, 2, 4 (a phase of a stride-2 transposed one). */
__attribute__((target(KTARGET))) static void
KF(fwd_image)(float *restrict grid, const float *restrict packed, const float *restrict wp,
              const int *taps, int ntap, size_t plane, size_t qlen, int C, int O_r)
{
    switch (ntap) {
    case 9: KF(fwd_tiles)(grid, packed, wp, taps, 9, plane, qlen, C, O_r); break;
    case 4: KF(fwd_tiles)(grid, packed, wp, taps, 4, plane, qlen, C, O_r); break;
    case 2: KF(fwd_tiles)(grid, packed, wp, taps, 2, plane, qlen, C, O_r); break;
    case 1: KF(fwd_tiles)(grid, packed, wp, taps, 1, plane, qlen, C, O_r); break;
    default: break;
    }
}

#if KWKY == 3
/* All three kernel rows per pass, the kx taps of a row from as few loads as possible.
 * Row ky's kx = 0 tap reads the packed vector at tap[ky·3] + v·KVL ("head"); the next
 * v's head ("next") is loaded once and both serve the shifted taps:
 *   stride 1: kx = 1, 2 are head shifted by one and two floats (from head and next);
 *   stride 2: kx = 2 is the same phase plane one float on (head shifted by one), kx = 1
 *             is the other column phase, one load.
 * So each v loads one (stride 1) or two (stride 2) vectors per row instead of three
 * unaligned ones.  Needs KVL floats of plane beyond the last tap's reach (layout_init).
 * stride is a constant after inlining. */
__attribute__((target(KTARGET), always_inline)) static inline void
KF(wgrad_group_rows)(float *restrict dwp, const float *restrict packed, const float *restrict doutg,
                     size_t dstride, const direct_layout *L, int G, int C, int O_r, const int stride)
{
    typedef KF(vf) vf;
    typedef KF(vfu) vfu;
    const int nv = L->qlen / KVL;
    const size_t plane = L->plane;
    size_t row0[3], col1[3];   /* offsets of the kx = 0 and kx = 1 taps of each row */
    for (int r = 0; r < 3; r++) {
        row0[r] = (size_t)L->tap[r * 3];
        col1[r] = (size_t)L->tap[r * 3 + 1];
    }
    for (int ob = 0; ob < O_r / KWNO; ob++) {
        for (int c = 0; c < C; c++) {
            vf acc[KWNO][9];
            for (int o = 0; o < KWNO; o++)
                for (int k = 0; k < 9; k++)
                    acc[o][k] = (vf){0};
            for (int g = 0; g < G; g++) {
                const float *pc = packed + ((size_t)g * C + c) * plane;
                const float *dg = doutg + ((size_t)g * O_r + (size_t)ob * KWNO) * dstride;
                vf head[3];
                for (int r = 0; r < 3; r++)
                    head[r] = *(const vfu *)(pc + row0[r]);
                for (int v = 0; v < nv; v++) {
                    vf d[KWNO];
                    for (int o = 0; o < KWNO; o++)
                        d[o] = *(const vfu *)(dg + (size_t)o * dstride + (size_t)v * KVL);
                    for (int r = 0; r < 3; r++) {
                        const vf next = *(const vfu *)(pc + row0[r] + (size_t)(v + 1) * KVL);
                        vf x[3];
                        x[0] = head[r];
                        if (stride == 1) {
                            x[1] = KSHIFT(head[r], next, 1);
                            x[2] = KSHIFT(head[r], next, 2);
                        } else {
                            x[1] = *(const vfu *)(pc + col1[r] + (size_t)v * KVL);
                            x[2] = KSHIFT(head[r], next, 1);
                        }
                        for (int o = 0; o < KWNO; o++)
                            for (int kx = 0; kx < 3; kx++)
                                acc[o][r * 3 + kx] += d[o] * x[kx];
                        head[r] = next;
                    }
                }
            }
            for (int o = 0; o < KWNO; o++)
                for (int k = 0; k < 9; k++)
                    dwp[(((size_t)ob * KWNO + o) * C + c) * 9 + k] += KHSUM(acc[o][k]);
        }
    }
}
#endif

/* One pass per (block of KWNO output channels, input channel, KWKY kernel rows):
 * KWNO·KWKY·3 accumulators, each grid vector of dout loaded once per pass. */
__attribute__((target(KTARGET))) static void
KF(wgrad_group)(float *restrict dwp, const float *restrict packed, const float *restrict doutg,
                size_t dstride, const direct_layout *L, int G, int C, int O_r)
{
#if KWKY == 3
    if (L->stride == 1)
        KF(wgrad_group_rows)(dwp, packed, doutg, dstride, L, G, C, O_r, 1);
    else
        KF(wgrad_group_rows)(dwp, packed, doutg, dstride, L, G, C, O_r, 2);
    return;
#endif
    typedef KF(vf) vf;
    typedef KF(vfu) vfu;
    const int nv = L->qlen / KVL;
    const size_t plane = L->plane;
    for (int ob = 0; ob < O_r / KWNO; ob++) {
        for (int c = 0; c < C; c++) {
            for (int ky0 = 0; ky0 < 3; ky0 += KWKY) {
                int taps[KWKY * 3];
                for (int k = 0; k < KWKY * 3; k++)
                    taps[k] = L->tap[ky0 * 3 + k];
                vf acc[KWNO][KWKY * 3];
                for (int o = 0; o < KWNO; o++)
                    for (int k = 0; k < KWKY * 3; k++)
                        acc[o][k] = (vf){0};
                for (int g = 0; g < G; g++) {
                    const float *pc = packed + ((size_t)g * C + c) * plane;
                    const float *dg = doutg + ((size_t)g * O_r + (size_t)ob * KWNO) * dstride;
                    for (int v = 0; v < nv; v++) {
                        vf d[KWNO];
                        for (int o = 0; o < KWNO; o++)
                            d[o] = *(const vfu *)(dg + (size_t)o * dstride + (size_t)v * KVL);
#pragma GCC unroll 9
                        for (int k = 0; k < KWKY * 3; k++) {
                            const vf x = *(const vfu *)(pc + taps[k] + (size_t)v * KVL);
                            for (int o = 0; o < KWNO; o++)
                                acc[o][k] += d[o] * x;
                        }
                    }
                }
                for (int o = 0; o < KWNO; o++)
                    for (int k = 0; k < KWKY * 3; k++)
                        dwp[(((size_t)ob * KWNO + o) * C + c) * 9 + ky0 * 3 + k] += KHSUM(acc[o][k]);
            }
        }
    }
}

#undef KF
#undef KPRAGMA
#undef KPRAGMA2
#undef KCAT
#undef KCAT2
