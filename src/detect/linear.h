/* linear.h — linear classifiers over hashed features: one weight vector and bias per class
 * (one-vs-rest logistic regression), trained with liblinear, applied in microseconds.
 *
 * File format (conf/models/NAME.model), little-endian binary after a text header:
 *   "warden-linear 3\n" "bits <WD_FEATURE_BITS>[ lexicon]\n" (lexicon: trained on the
 *   WD_FEATURES_LEXICON set) "classes <k>\n" then k lines "<name> <bias>
 *   <nnz>\n" (bias as %.9g), then "data\n", then for each class in order nnz records of
 *   {uint32 index, float32 weight}. Only non-zero weights are stored. Deterministic: the same
 *   data and options give the same bytes. */
#ifndef WD_DETECT_LINEAR_H
#define WD_DETECT_LINEAR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "detect/features.h"

struct wd_linear;

int wd_linear_load(const char *path, struct wd_linear **out, char *err, size_t errlen);
int wd_linear_save(const struct wd_linear *m, const char *path, char *err, size_t errlen);
void wd_linear_free(struct wd_linear *m);
/* The same from and to an open file, the model's lines and weights only, from its current
 * position (a model within another file, detect/net); line0: the file's lines before it, for
 * the line numbers of errors. */
int wd_linear_read(FILE *fp, const char *path, size_t line0, struct wd_linear **out, char *err,
                   size_t errlen);
int wd_linear_write(const struct wd_linear *m, FILE *fp);
/* A model of k classes (names, bias) from nu rows of weights: keys[r] (sorted, unique, each <
 * WD_FEATURE_DIM) weighs w[r * k + c] for class c; features as recorded by a trained one. 0,
 * WD_EINVAL or WD_ENOMEM. */
int wd_linear_make(size_t k, const char *const *names, const double *bias, const uint32_t *keys,
                   const float *w, size_t nu, unsigned features, struct wd_linear **out);
size_t wd_linear_nclass(const struct wd_linear *m);
const char *wd_linear_class(const struct wd_linear *m, size_t i);
/* The index of the class called name, or -1. */
int wd_linear_find(const struct wd_linear *m, const char *name);
/* probs[i] = sigmoid(w_i · f + b_i) for every class. */
void wd_linear_predict(const struct wd_linear *m, const struct wd_features *f, double *probs);
/* The same for the features of a text's raw keys (k: the model's feature set of them; k's scratch
 * and tally are used), without sorting them: what wd_linear_predict gives on
 * wd_features_extract of the text, to rounding (the sums run in another order). 0 or
 * WD_ENOMEM. */
int wd_linear_predict_keys(const struct wd_linear *m, struct wd_feature_keys *k, double *probs);
/* The same before the sigmoid: margins[i] = w_i · f + b_i (a network's hidden layer, detect/net).
 */
int wd_linear_margins_keys(const struct wd_linear *m, struct wd_feature_keys *k, double *margins);
/* The feature options (detect/features.h) the model was trained on: its inputs must be made the
 * same way. Stored on the file's "bits" line ("bits 20 lexicon"). */
unsigned wd_linear_features(const struct wd_linear *m);

/* v rounded to what "%.9g" prints: a number trained here and written to a model file's header
 * reads back the same, so a saved model predicts bit for bit what the trained one did. */
double wd_round9(double v);

/* ---- training (liblinear) ---- */

struct wd_train_example {
	struct wd_features f; /* owned by the set */
	int label;            /* class index, 0..nclass-1 */
	double weight;        /* instance weight (1 normally) */
};

struct wd_train_opts {
	double c;          /* inverse regularisation strength (liblinear C); 0 → 1.0 */
	int l1;            /* 1: L1-regularised LR (sparse weights); 0: L2 */
	int balance;       /* 1: weight classes inversely to their frequency */
	unsigned features; /* the options the examples' features were made with (recorded) */
};

/* Trains one binary model per class name (one-vs-rest; with 2 classes, one model for class 1
 * and its mirror for class 0). Deterministic. */
int wd_linear_train(const struct wd_train_example *ex, size_t n, const char *const *classes,
                    size_t nclass, const struct wd_train_opts *o, struct wd_linear **out, char *err,
                    size_t errlen);

#endif
