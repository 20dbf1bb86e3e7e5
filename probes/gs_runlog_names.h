/* gs_runlog_names.h — every name of the run-log schema, defined once.
 *
 * The writer (probes/gs_runlog.c) and the reader (analyzer/) both use these, so a
 * renamed dataset cannot silently break one side.  The schema is documented in
 * docs/run-format.md; this header must agree with it.
 */
#ifndef GS_RUNLOG_NAMES_H
#define GS_RUNLOG_NAMES_H

#define GS_RUN_FORMAT          "gradscope-run"
#define GS_RUN_FORMAT_VERSION  1

/* root attributes */
#define GS_ATTR_FORMAT         "format"
#define GS_ATTR_FORMAT_VERSION "format_version"
#define GS_ATTR_STATUS         "status"       /* written at creation: "running" (see /status) */

/* scalar string datasets */
#define GS_DS_CONFIG           "/config"      /* JSON: the full resolved configuration */
#define GS_DS_STATUS           "/status"      /* fixed 16-byte string: "running", "finished",
                                                 "interrupted", "failed" (rewritten in place) */

/* model tables */
#define GS_GRP_MODEL           "/model"
#define GS_GRP_MODEL_BLOCKS    "/model/blocks"
#define GS_DS_BLOCK_NAME       "/model/blocks/name"        /* [B] string "layer2.0"          */
#define GS_DS_BLOCK_STAGE      "/model/blocks/stage"       /* [B] int32, from 1               */
#define GS_DS_BLOCK_INDEX      "/model/blocks/index"       /* [B] int32, from 0               */
#define GS_DS_BLOCK_SHORTCUT   "/model/blocks/shortcut"    /* [B] string identity|A|B         */
#define GS_DS_BLOCK_IN_SHAPE   "/model/blocks/in_shape"    /* [B,3] int32 (C, H, W)           */
#define GS_DS_BLOCK_OUT_SHAPE  "/model/blocks/out_shape"   /* [B,3] int32 (C, H, W)           */
#define GS_GRP_MODEL_PARAMS    "/model/params"
#define GS_DS_PARAM_NAME       "/model/params/name"        /* [P] string "layer2.0.conv1.weight" */
#define GS_DS_PARAM_KIND       "/model/params/kind"        /* [P] string conv_weight|bn_weight|... */
#define GS_DS_PARAM_SHAPE      "/model/params/shape"       /* [P,4] int32, unused dims 0      */
#define GS_DS_PARAM_NDIM       "/model/params/ndim"        /* [P] int32                       */
#define GS_DS_PARAM_NUMEL      "/model/params/numel"       /* [P] int64                       */
#define GS_DS_PARAM_BLOCK      "/model/params/block"       /* [P] int32, -1 stem/head         */

/* per-step training scalars, [S] */
#define GS_GRP_TRAIN           "/train"
#define GS_TRAIN_STEP          "step"          /* int64 */
#define GS_TRAIN_EPOCH         "epoch"         /* int32 */
#define GS_TRAIN_LOSS          "loss"          /* float32 */
#define GS_TRAIN_ACCURACY      "accuracy"      /* float32, batch accuracy */
#define GS_TRAIN_LR            "lr"
#define GS_TRAIN_GRAD_NORM_PRE "grad_norm_pre"
#define GS_TRAIN_GRAD_NORM_POST "grad_norm_post"
#define GS_TRAIN_WALL_S        "wall_s"        /* float64, seconds since start */

/* per-epoch results, [E] */
#define GS_GRP_EPOCHS          "/epochs"
#define GS_EPOCHS_EPOCH        "epoch"         /* int32, from 0 */
#define GS_EPOCHS_TRAIN_LOSS   "train_loss"
#define GS_EPOCHS_TRAIN_ACC    "train_acc"
#define GS_EPOCHS_TEST_LOSS    "test_loss"
#define GS_EPOCHS_TEST_ACC     "test_acc"
#define GS_EPOCHS_WALL_S       "wall_s"
#define GS_EPOCHS_IMAGES_PER_S "images_per_s"

/* probes at every probed step, [N, B] and [N, P] */
#define GS_GRP_PROBE           "/probe"
#define GS_DS_PROBE_STEP       "/probe/step"                  /* [N] int64 */
#define GS_GRP_PROBE_BLOCKS    "/probe/blocks"
#define GS_BLK_SKIP_NORM       "skip_norm"
#define GS_BLK_RESIDUAL_NORM   "residual_norm"
#define GS_BLK_SUM_NORM        "sum_norm"
#define GS_BLK_COSINE          "cosine"
#define GS_BLK_OVERLAP         "overlap"
#define GS_GRP_PROBE_PRE       "/probe/params/pre"
#define GS_GRP_PROBE_POST      "/probe/params/post"
#define GS_PRM_MEAN            "mean"
#define GS_PRM_STD             "std"
#define GS_PRM_NORM            "norm"
#define GS_PRM_MIN             "min"
#define GS_PRM_MAX             "max"
#define GS_PRM_NONFINITE       "nonfinite"                    /* int64 */
#define GS_DS_PROBE_UPDATE_RATIO "/probe/params/update_ratio" /* [N, P] ‖Δw‖/‖w‖ */

/* histograms at sampled steps, [M, B, H] and [M, P, H] (int64 counts) */
#define GS_DS_HIST_EDGES       "/probe/hist_edges"            /* [H+1] float32 */
#define GS_GRP_PROBE_HIST      "/probe/hist"
#define GS_DS_HIST_STEP        "/probe/hist/step"             /* [M] int64 */
#define GS_HIST_SKIP           "skip"                         /* [M, B, H] */
#define GS_HIST_RESIDUAL       "residual"
#define GS_HIST_SUM            "sum"
#define GS_HIST_PRE            "pre"                          /* [M, P, H] */
#define GS_HIST_POST           "post"

/* per-epoch aggregates over every step of the epoch, [E, B] / [E, P] / [E, ., H] */
#define GS_GRP_PROBE_EPOCH     "/probe/epoch"
#define GS_DS_PE_EPOCH         "/probe/epoch/epoch"           /* [E] int32 */
#define GS_DS_PE_STEPS         "/probe/epoch/steps"           /* [E] int64 steps aggregated */
#define GS_DS_PE_HIST_STEPS    "/probe/epoch/hist_steps"      /* [E] int64 sampled steps in the hists */
#define GS_GRP_PE_BLOCKS       "/probe/epoch/blocks"          /* <stat>_mean, <stat>_std [E, B], hist_<part> [E, B, H] */
#define GS_GRP_PE_PRE          "/probe/epoch/params/pre"      /* norm_mean, norm_std, std_mean [E, P], hist [E, P, H] */
#define GS_GRP_PE_POST         "/probe/epoch/params/post"

/* one-step full-gradient dumps (--dump-grads) */
#define GS_GRP_DUMP            "/dump"                        /* /dump/step_<N>/... */

#endif
