/* gs_checkpoint.h — HDF5 checkpoints with PyTorch names and layouts.
 *
 * File layout (documented in docs/checkpoint-format.md):
 *   /params/<name>                      float32, PyTorch shape (conv OIHW, fc [out, in])
 *   /buffers/<bn>.running_mean|var      float32 (C)
 *   /buffers/<bn>.num_batches_tracked   int64 scalar
 *   /optimizer  @type ("sgd"|"adam"|"adamw") @step (int64)
 *   /optimizer/<state>/<name>           momentum_buffer | exp_avg | exp_avg_sq
 *   /state      @step @epoch @seed      (every random stream derives from seed+step)
 *   /config     JSON string of the run that wrote it
 *
 * Saving writes PATH.tmp and renames it over PATH, so an existing checkpoint is never
 * left half-written.  Loading checks every name and shape against the model; any
 * mismatch is an error naming the file and the tensor.  Functions return 0 or −1
 * with a one-line message in err.  A failed load may leave the model partially
 * overwritten: callers treat it as fatal (gradscope train exits with code 2).
 */
#ifndef GS_CHECKPOINT_H
#define GS_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "gs_model.h"
#include "gs_optim.h"

typedef struct gs_train_state {
    int64_t  step;     /* steps completed */
    int32_t  epoch;    /* epoch of the next step */
    uint64_t seed;
} gs_train_state;

int gs_checkpoint_save(const char *path, const gs_model *m, const gs_optim *opt,
                       const gs_train_state *state, const char *config_json,
                       char *err, size_t errsz);

/* opt may be NULL (weights and BN buffers only, e.g. --init); state may be NULL.
 * With opt given, the file's optimizer type must match and its buffers are loaded. */
int gs_checkpoint_load(const char *path, gs_model *m, gs_optim *opt, gs_train_state *state,
                       char *err, size_t errsz);

#endif
