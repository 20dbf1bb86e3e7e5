/* gs_analyzer_cli.h — the analyzer's command-line verbs.
 *
 * The `gradscope` binary (cli/gradscope.c) dispatches `gradscope info …` to
 * gs_cmd_info(argc - 1, argv + 1) and so on.  Each verb:
 *   - receives argv starting at the verb itself (argv[0] = "info"),
 *   - parses its own options with getopt_long (it resets optind, so verbs can be called
 *     one after another in one process), and prints its usage for --help (exit 0),
 *   - writes its results to stdout (or the files it was asked to write), diagnostics
 *     and progress to stderr,
 *   - returns the process exit code:
 *       0  success
 *       1  runtime failure (cannot write an output file, gnuplot failed, out of memory)
 *       2  bad usage or bad input: unknown option or value, unknown figure, a file that
 *          is missing, not HDF5, damaged, not a gradscope run, or lacks the data asked
 *          for — with ONE line on stderr naming the file or flag and the problem.
 * The verbs never call exit().  Their full documentation is docs/analyzer.md.
 */
#ifndef GS_ANALYZER_CLI_H
#define GS_ANALYZER_CLI_H

/* info RUN.h5 — what the run is: configuration, model, what was recorded, status. */
int gs_cmd_info(int argc, char **argv);

/* report RUN.h5 [--format text|markdown|csv] [--select REGEX] [--table NAME] —
 * per-block and per-tensor statistics at the first and last epoch, training summary. */
int gs_cmd_report(int argc, char **argv);

/* compare RUN.h5 RUN.h5 … [--format text|markdown|csv] — runs side by side, and runs that
 * share a configuration except the seed as mean ± sample std over seeds. */
int gs_cmd_compare(int argc, char **argv);

/* export RUN.h5 --what train|epochs|blocks|params|hist [--select REGEX] [--by step|epoch]
 * -o FILE.csv — one CSV table, one column per selected statistic ("-o -" = stdout). */
int gs_cmd_export(int argc, char **argv);

/* plot RUN.h5 [RUN.h5 …] (--figure NAME | --all) [--format png|svg|pdf|cairolatex]
 * [--out DIR] [--size one-column|two-column|WxH] [--select REGEX] — data files plus a
 * standalone gnuplot script per figure, then gnuplot run on each script. */
int gs_cmd_plot(int argc, char **argv);

#endif
