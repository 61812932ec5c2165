"""A small, dependency-free ML pipeline: prepare data, train over a grid, pick the best, report.

Pure Python so the example runs anywhere (`heraspec run examples/ml-pipeline.yaml`); a real
pipeline would import numpy or scikit-learn here the same way.
"""

import json
import math
import random
from statistics import mean

SEED = 7
N_POINTS = 200
NOISE = 0.3


def _make_points(n: int, seed: int) -> list:
    rng = random.Random(seed)
    points = []
    for _ in range(n):
        x = rng.uniform(-3, 3)
        y = 1.0 if math.sin(x) + rng.gauss(0, NOISE) > 0 else 0.0
        points.append([x, y])
    return points


def prepare(n_points: int = N_POINTS) -> dict:
    """Make a data set and split it 80/20."""
    points = _make_points(n_points, SEED)
    cut = int(len(points) * 0.8)
    return {"train": points[:cut], "test": points[cut:]}


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def _features(x: float, degree: int) -> list:
    return [x ** d for d in range(degree + 1)]


def train(data: dict, learning_rate: float, degree: int, epochs: int = 200) -> dict:
    """Logistic regression on polynomial features, by plain gradient descent."""
    w = [0.0] * (degree + 1)
    for _ in range(epochs):
        grad = [0.0] * len(w)
        for x, y in data["train"]:
            f = _features(x / 3, degree)
            err = _sigmoid(sum(a * b for a, b in zip(w, f))) - y
            grad = [g + err * fi for g, fi in zip(grad, f)]
        w = [wi - learning_rate * g / len(data["train"]) for wi, g in zip(w, grad)]
    correct = [(_sigmoid(sum(a * b for a, b in zip(w, _features(x / 3, degree)))) > 0.5) == (y > 0.5)
               for x, y in data["test"]]
    return {"learning_rate": learning_rate, "degree": degree, "accuracy": round(mean(correct), 4), "weights": w}


def pick_best(results: list) -> dict:
    """The model with the best test accuracy (ties: the simpler one)."""
    return max(results, key=lambda r: (r["accuracy"], -r["degree"]))


def report(best: dict, results: list) -> str:
    lines = [f"trained {len(results)} models"]
    for r in sorted(results, key=lambda r: -r["accuracy"]):
        lines.append(f"  lr={r['learning_rate']:<5} degree={r['degree']}  accuracy={r['accuracy']:.3f}")
    lines.append(f"best: {json.dumps({k: best[k] for k in ('learning_rate', 'degree', 'accuracy')})}")
    text = "\n".join(lines)
    print(text)
    return text
