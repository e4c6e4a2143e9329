#!/usr/bin/python3
"""harm_ceiling.py — how far other model families get on the harm checker's data (`make ceiling`).

Not part of warden: a measurement for its maintainers. The harm model (an L1 logistic regression
on hashed n-grams and word classes, plus the rule pack) reaches ~0.87 recall at 5% false positives
on the validation split; the issue asks 0.95. This script asks whether another learner on the same
training split would do better: TF-IDF word 1-2-grams and character 3-4-grams (scikit-learn), with
an L2 logistic regression, a linear SVM and a one-hidden-layer network; each alone, each added to
warden's score (logits summed), and a learning curve (the logistic regression on a quarter, half,
three quarters of the training split) for what more data of the same kind would give.

Input: the directory that `make ceiling` fills with warden's --scores files (train.scores: the
training split of the harm model's data, which says which records to learn from; valid.scores and
test.scores: the README's main harm table with warden's harm+rules score per record), then the
data files (JSONL; FILE@FIELD reads FIELD as the text) that hold the records' texts.
Needs python3-sklearn (Debian). Deterministic for a given scikit-learn version.
"""
import json
import math
import os
import sys

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.svm import LinearSVC


def load_texts(specs):
    texts = {}
    for spec in specs:
        path, _, field = spec.partition("@")
        name = os.path.basename(path) + ("@" + field if field else "")
        with open(path) as fp:
            for line in fp:
                rec = json.loads(line)
                text = rec.get(field or "text")
                if isinstance(text, str):
                    texts[(name, rec["id"])] = text
    return texts


def load_scores(path, texts):
    with open(path) as fp:
        rows = [json.loads(line) for line in fp]
    return ([texts[(r["file"], r["id"])] for r in rows],
            np.array([r["label"] == "harmful" for r in rows]),
            np.array([r["score"] for r in rows]))


def recall_at(score, y, fpr=0.05):
    """Recall above the cut that flags at most fpr of the negatives (as warden eval counts)."""
    neg = np.sort(score[~y])[::-1]
    return float(np.mean(score[y] > neg[int(fpr * len(neg))]))


def fpr_for(score, y, recall=0.95):
    """The false-positive rate at the cut that finds the given share of the positives."""
    cut = np.sort(score[y])[int((1 - recall) * y.sum())]
    return float(np.mean(score[~y] >= cut))


def logit(p):
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: harm_ceiling.py SCOREDIR DATA.jsonl[@FIELD] ...")
    d = sys.argv[1]
    texts = load_texts(sys.argv[2:])
    xtr, ytr, _ = load_scores(os.path.join(d, "train.scores"), texts)
    splits = {s: load_scores(os.path.join(d, s + ".scores"), texts) for s in ("valid", "test")}

    vecs = [TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=40000),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True, min_df=2,
                            max_features=40000)]
    a = sp.hstack([v.fit_transform(xtr) for v in vecs]).tocsr()
    mats = {s: sp.hstack([v.transform(x) for v in vecs]).tocsr() for s, (x, _, _) in splits.items()}
    print(f"training split: {a.shape[0]} records ({int(ytr.sum())} harmful), {a.shape[1]} features")
    print("model                                   valid recall@5%  test recall@5%  valid FPR@0.95")

    def report(name, scores):
        v, t = scores["valid"], scores["test"]
        yv, yt = splits["valid"][1], splits["test"][1]
        print(f"{name:<40}{recall_at(v, yv):>15.3f}{recall_at(t, yt):>16.3f}{fpr_for(v, yv):>16.3f}")

    warden = {s: logit(splits[s][2]) for s in splits}
    report("warden harm+rules", warden)

    def fitted(model, rows=None):
        rows = np.arange(a.shape[0]) if rows is None else rows
        model.fit(a[rows], ytr[rows])
        if hasattr(model, "predict_proba") and not hasattr(model, "decision_function"):
            return {s: logit(model.predict_proba(m)[:, 1]) for s, m in mats.items()}
        return {s: model.decision_function(m) for s, m in mats.items()}

    def lr(c=64):
        return LogisticRegression(C=c, class_weight="balanced", max_iter=3000)

    for c in (4, 16, 64):
        report(f"TF-IDF logistic regression C={c}", fitted(lr(c)))
    report("TF-IDF linear SVM C=0.5", fitted(LinearSVC(C=0.5, class_weight="balanced")))
    best = fitted(lr())
    report("warden + logistic regression C=64", {s: warden[s] + best[s] for s in splits})

    # the network has no class weights: the harmful records are drawn again to balance
    pos, neg = np.flatnonzero(ytr), np.flatnonzero(~ytr)
    for seed in range(3):
        rng = np.random.RandomState(seed)
        rows = np.concatenate([neg, rng.choice(pos, len(neg))])
        rng.shuffle(rows)
        net = MLPClassifier(hidden_layer_sizes=(32,), alpha=1e-3, max_iter=2, batch_size=128,
                            random_state=seed)
        scores = fitted(net, rows)
        report(f"TF-IDF network, 32 hidden, seed {seed}", scores)
        report(f"warden + network, seed {seed}", {s: warden[s] + scores[s] for s in splits})

    for frac in (0.25, 0.5, 0.75):
        runs = []
        for seed in range(3):
            rows = np.flatnonzero(np.random.RandomState(seed).rand(a.shape[0]) < frac)
            runs.append(fitted(lr(), rows))
        mean = {s: np.mean([recall_at(r[s], splits[s][1]) for r in runs]) for s in splits}
        print(f"{'logistic regression, ' + str(int(frac * 100)) + '% of training':<40}"
              f"{mean['valid']:>15.3f}{mean['test']:>16.3f}   (mean of 3 draws)")


if __name__ == "__main__":
    import warnings
    warnings.filterwarnings("ignore")
    main()
