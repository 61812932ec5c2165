"""A small sequencing-style pipeline: files between tasks are plain `pathlib.Path`s.

make_reads writes a FASTQ file, count_kmers (fanned out over shards) counts the k-mers of its share
of the reads, merge_counts sums the shards' tables into a folder, gc_content computes a per-read
value list (sent with `result: artifact`), and report summarises it all.
"""

import json
import random
from collections import Counter
from pathlib import Path


def make_reads(n_reads: int, length: int, seed: int) -> Path:
    rng = random.Random(seed)
    out = Path("reads.fastq")
    with out.open("w") as f:
        for i in range(n_reads):
            seq = "".join(rng.choice("ACGT") for _ in range(length))
            f.write(f"@read{i}\n{seq}\n+\n{'I' * length}\n")
    return out


def _sequences(fastq: Path) -> list[str]:
    lines = fastq.read_text().splitlines()
    return lines[1::4]


def count_kmers(reads: Path, shard: int, n_shards: int, k: int) -> Path:
    counts: Counter = Counter()
    for i, seq in enumerate(_sequences(reads)):
        if i % n_shards == shard:
            counts.update(seq[j:j + k] for j in range(len(seq) - k + 1))
    out = Path(f"kmers-{shard}.tsv")
    out.write_text("".join(f"{kmer}\t{n}\n" for kmer, n in sorted(counts.items())))
    return out


def merge_counts(shards: list[Path]) -> Path:
    total: Counter = Counter()
    for table in shards:
        for line in table.read_text().splitlines():
            kmer, n = line.split("\t")
            total[kmer] += int(n)
    out = Path("merged")
    out.mkdir()
    (out / "kmers.tsv").write_text("".join(f"{kmer}\t{n}\n" for kmer, n in sorted(total.items())))
    (out / "shards.json").write_text(json.dumps([s.name for s in shards]))
    return out


def gc_content(reads: Path) -> list:
    return [round(sum(c in "GC" for c in seq) / len(seq), 4) for seq in _sequences(reads)]


def report(merged: Path, gc: list, top: int) -> dict:
    counts = [line.split("\t") for line in (merged / "kmers.tsv").read_text().splitlines()]
    counts.sort(key=lambda kv: (-int(kv[1]), kv[0]))
    return {
        "shards": json.loads((merged / "shards.json").read_text()),
        "distinct_kmers": len(counts),
        "top": {kmer: int(n) for kmer, n in counts[:top]},
        "reads": len(gc),
        "mean_gc": round(sum(gc) / len(gc), 4),
    }
