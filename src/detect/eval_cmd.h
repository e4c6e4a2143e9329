/* eval_cmd.h — `warden eval`: runs configured checkers over labelled JSONL data and prints
 * precision, recall and false-positive rate per file and per category, plus throughput. */
#ifndef WD_DETECT_EVAL_CMD_H
#define WD_DETECT_EVAL_CMD_H

int wd_eval_main(int argc, char **argv);

#endif
