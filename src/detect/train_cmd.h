/* train_cmd.h — `warden train`: trains a linear model (liblinear) on labelled JSONL data, using
 * only the records of the chosen split(s), and writes conf/models/NAME.model. */
#ifndef WD_DETECT_TRAIN_CMD_H
#define WD_DETECT_TRAIN_CMD_H

/* argv holds the options after "train"; returns the process exit status. */
int wd_train_main(int argc, char **argv);

#endif
