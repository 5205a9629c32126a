"""A model as bytes: an `.npz` archive of plain numpy arrays and one JSON header, loaded
with `allow_pickle=False`, so a blob from the database can hold numbers and nothing that
runs. `FORMAT` is the layout's version; a blob of another is refused with a clear error (the
trainer then makes a new one)."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.listening import learn
from bot.listening.features import BITS, Vocabulary

if TYPE_CHECKING:
    from bot.listening.model import Parts

FORMAT = 1


class UnknownFormat(ValueError):
    pass


def dumps(parts: Parts) -> bytes:
    header: dict[str, Any] = {
        "format": FORMAT,
        "bits": BITS,
        "keywords": parts.keywords,
        "teams": parts.teams,
        "route_threshold": parts.route_threshold,
        "stats": asdict(parts.stats) if parts.stats else None,
    }
    arrays: dict[str, np.ndarray[Any, Any]] = {}
    if parts.vocab is not None:
        header["unseen_idf"] = parts.vocab.unseen_idf
        arrays["buckets"] = parts.vocab.buckets
        arrays["idf"] = parts.vocab.idf.astype(np.float32)
    if parts.flag is not None:
        header["calibration"] = [parts.flag.a, parts.flag.b]
        arrays["flag_weights"] = parts.flag.weights.astype(np.float32)
        arrays["oof"] = parts.flag.oof.astype(np.float32)
        arrays["truth"] = parts.flag.truth.astype(np.uint8)
    if parts.team_weights is not None:
        arrays["team_weights"] = parts.team_weights.astype(np.float32)
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    out = io.BytesIO()
    np.savez_compressed(out, **arrays)  # type: ignore[arg-type]
    return out.getvalue()


def loads(data: bytes) -> Parts:
    from bot.listening.model import ModelStats, Parts

    try:
        archive = np.load(io.BytesIO(data), allow_pickle=False)
        header = json.loads(bytes(archive["header"]).decode())
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise UnknownFormat(f"not a listening model: {exc}") from exc
    if header.get("format") != FORMAT or header.get("bits") != BITS:
        raise UnknownFormat(f"listening model format {header.get('format')}, expected {FORMAT}")
    parts = Parts(header["keywords"], header["teams"])
    parts.route_threshold = float(header["route_threshold"])
    if header["stats"] is not None:
        parts.stats = ModelStats(**header["stats"])
    if "buckets" in archive:
        vocab = Vocabulary(
            archive["buckets"].astype(np.int64), archive["idf"].astype(np.float64), 0
        )
        vocab.unseen_idf = float(header["unseen_idf"])
        parts.vocab = vocab
    if "flag_weights" in archive:
        a, b = header["calibration"]
        parts.flag = learn.FlagFit(
            archive["flag_weights"].astype(np.float64),
            float(a),
            float(b),
            archive["oof"].astype(np.float64),
            archive["truth"].astype(np.float64),
        )
    if "team_weights" in archive:
        parts.team_weights = archive["team_weights"].astype(np.float64)
    return parts
