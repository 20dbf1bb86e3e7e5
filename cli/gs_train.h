/* gs_train.h — `gradscope train`: composes datasets, core and probes.
 * Returns the process exit code: 0 done, 1 runtime failure (non-finite loss, I/O),
 * 2 bad usage or bad input, 130/143 interrupted by SIGINT/SIGTERM (after a clean
 * flush and checkpoint). */
#ifndef GS_TRAIN_H
#define GS_TRAIN_H

int gs_cmd_train(int argc, char **argv);

#endif
