/* net.h — a network of one hidden layer over the hashed features of detect/features: hidden unit
 * j = relu(b_j + w_j · f), and p = sigmoid(b + v · hidden), the probability of the second of its
 * two classes. Its hidden layer is a linear model (detect/linear) of H classes named h0, h1...,
 * so a text's keys are looked up as a linear model's are; only the keys found in the most
 * training examples (at least two) have weights. Trained here, not by liblinear: Adam on the log
 * loss (classes weighted, optionally, to balance) with an L2 penalty on the weights, in
 * minibatches of 128 in an order drawn from a fixed seed, each input weighted by its key's
 * inverse document frequency while it learns (folded into the saved weights, so its inputs are
 * the linear model's). Deterministic: the same data and options give the same bytes.
 *
 * It reads a text otherwise than the linear model does (sums of products, rare keys weighing
 * more), so the two err on different texts: the harm checker averages their log-odds
 * (detect/classify), which ranks harmful requests better than either alone.
 *
 * File format (conf/models/NAME.model): "warden-net 1\n" "classes A B\n" "output <b> <v_0> ...
 * <v_H-1>\n" (each %.9g), then the hidden layer as a linear model file (detect/linear.h). */
#ifndef WD_DETECT_NET_H
#define WD_DETECT_NET_H

#include <stddef.h>

#include "detect/features.h"
#include "detect/linear.h"

struct wd_net;

int wd_net_load(const char *path, struct wd_net **out, char *err, size_t errlen);
int wd_net_save(const struct wd_net *n, const char *path, char *err, size_t errlen);
void wd_net_free(struct wd_net *n);
/* Its class i (0 or 1; NULL otherwise): the probability is class 1's. */
const char *wd_net_class(const struct wd_net *n, size_t i);
/* The feature options (detect/features.h) its inputs are made with. */
unsigned wd_net_features(const struct wd_net *n);
/* *p = the probability of class 1 for a text's keys (detect/features; k's scratch and tally are
 * used, as by wd_linear_predict_keys). 0 or WD_ENOMEM. */
int wd_net_predict_keys(const struct wd_net *n, struct wd_feature_keys *k, double *p);

struct wd_net_opts {
	size_t hidden; /* hidden units; 0 → 8 */
	size_t vocab; /* at most this many keys, those in most examples (at least two); 0 → 30000 */
	unsigned epochs;   /* passes over the data; 0 → 2 */
	double alpha;      /* L2 penalty; 0 → 1e-3 */
	int balance;       /* 1: weight classes inversely to their frequency */
	unsigned features; /* the options the examples' features were made with (recorded) */
};

/* Trains on examples labelled 0 or 1 (classes[0], classes[1]; instance weights must be 1).
 * 0, WD_EINVAL (err says why) or WD_ENOMEM. */
int wd_net_train(const struct wd_train_example *ex, size_t n, const char *const classes[2],
                 const struct wd_net_opts *o, struct wd_net **out, char *err, size_t errlen);

#endif
