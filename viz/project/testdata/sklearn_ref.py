"""Reference values from scikit-learn for viz/project's tests.

    sklearn_ref.py ref OUT.json           PCA fits, t-SNE joint probabilities and a
                                          t-SNE of digits, written as JSON
    sklearn_ref.py trust REF.json EMB.json  trustworthiness of another embedding
                                          (JSON list of rows) of REF's digits

Run by viz/project's tests with Debian's /usr/bin/python3 (python3-sklearn).
"""
import json
import sys

import numpy as np
from scipy.spatial.distance import squareform
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE, trustworthiness
from sklearn.manifold._t_sne import _joint_probabilities, _joint_probabilities_nn
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import NearestNeighbors

DIGITS = 500        # the first 500 of the 1797 digits
TRUST_NEIGHBOURS = 5


def pca_case(rng, n, d, k, n2):
    scales = np.linspace(5, 0.5, d)
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    x = ((rng.normal(size=(n, d)) * scales) @ q + 3).astype(np.float32)
    x2 = (rng.normal(size=(n2, d)) * 2).astype(np.float32)
    p = PCA(n_components=k, svd_solver="full").fit(x)
    return {
        "x": x.tolist(), "x2": x2.tolist(), "k": k,
        "components": p.components_.tolist(), "mean": p.mean_.tolist(),
        "explained_variance": p.explained_variance_.tolist(),
        "ratio": p.explained_variance_ratio_.tolist(),
        "transform_x2": p.transform(x2).tolist(),
    }


def joint_case(rng):
    x = rng.normal(size=(50, 5)).astype(np.float32)
    perplexity = 10.0
    dist = pairwise_distances(x, metric="euclidean", squared=True)
    p = squareform(_joint_probabilities(dist, perplexity, 0))
    # As TSNE(method="barnes_hut") does: squared distances to the
    # int(3·perplexity + 1) nearest neighbours.
    k = min(len(x) - 1, int(3.0 * perplexity + 1))
    graph = NearestNeighbors(n_neighbors=k, metric="euclidean").fit(x).kneighbors_graph(mode="distance")
    graph.data **= 2
    p_nn = _joint_probabilities_nn(graph, perplexity, 0).toarray()
    return {"x": x.tolist(), "perplexity": perplexity, "k": k, "p": p.tolist(), "p_nn": p_nn.tolist()}


def digits_case():
    x, labels = load_digits(return_X_y=True)
    x, labels = x[:DIGITS].astype(np.float32), labels[:DIGITS]
    tsne = TSNE(n_components=2, perplexity=30.0, early_exaggeration=12.0, learning_rate="auto",
                n_iter=1000, init="pca", method="barnes_hut", angle=0.5, random_state=0)
    emb = tsne.fit_transform(x)
    return {
        "x": x.tolist(), "labels": labels.tolist(),
        "sklearn_embedding": emb.tolist(), "sklearn_kl": float(tsne.kl_divergence_),
        "sklearn_trust": float(trustworthiness(x, emb, n_neighbors=TRUST_NEIGHBOURS)),
    }


def main():
    if sys.argv[1] == "ref":
        rng = np.random.default_rng(4)
        out = {
            # n ≥ d (graft: covariance eigenvectors) and n < d (graft: SVD).
            "pca": [pca_case(rng, 60, 8, 3, 10), pca_case(rng, 6, 10, 4, 3)],
            "joint": joint_case(rng),
            "digits": digits_case(),
        }
        with open(sys.argv[2], "w") as f:
            json.dump(out, f)
    elif sys.argv[1] == "trust":
        with open(sys.argv[2]) as f:
            x = np.array(json.load(f)["digits"]["x"])
        with open(sys.argv[3]) as f:
            emb = np.array(json.load(f))
        print(json.dumps({"trust": float(trustworthiness(x, emb, n_neighbors=TRUST_NEIGHBOURS))}))
    else:
        sys.exit("usage: sklearn_ref.py ref OUT.json | trust REF.json EMB.json")


main()
