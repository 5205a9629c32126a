"""Read and validate the TOML config file, reporting every problem with its key or line."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from config.schema import CrosstalkConfig


class ConfigError(Exception):
    """An invalid or unreadable config file; `problems` holds one line per problem."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))

    def report(self) -> str:
        lines = [f"{self.path}: {len(self.problems)} problem(s)"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


def _where(loc: tuple[int | str, ...], raw: object) -> str:
    parts: list[str] = []
    node = raw
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and item < len(node):
                node = node[item]
                if isinstance(node, dict) and isinstance(node.get("key"), str):
                    label += f" ({node['key']})"
            parts.append(label)
        else:
            parts.append(("." if parts else "") + item)
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts) or "(top level)"


def _problems(exc: ValidationError, raw: dict[str, object]) -> list[str]:
    out: list[str] = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not str(p).startswith("function-"))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        where = _where(loc, raw)
        if loc == ():
            out.extend(msg.split("\n"))
        else:
            out.extend(f"{where}: {m}" for m in msg.split("\n"))
    return out


def parse_config(text: str, path: str = "<config>") -> CrosstalkConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [f"not valid TOML: {exc}"]) from None
    try:
        return CrosstalkConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(path, _problems(exc, raw)) from None


def load_config(path: str | Path) -> CrosstalkConfig:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(p), ["file not found (set CROSSTALK_CONFIG or create it)"]) from None
    except OSError as exc:
        raise ConfigError(str(p), [f"cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text (byte {exc.start}): save the file as UTF-8"
        raise ConfigError(str(p), [problem]) from None
    return parse_config(text, str(p))
