"""Check every fenced code block of the given Markdown files, by language.

    python scripts/doc-blocks/check.py README.md BENCHMARKING.md docs/*.md

| info string | check |
|---|---|
| `rust` | compiled into one crate depending on keyfob by path, and run |
| `c`, `cpp` | compiled with -Wall -Wextra -Werror against include/keyfob.h, linked, run |
| `python` | run with this interpreter (the project's venv) |
| `sh`, `bash` | `bash -n`; with the `run` attribute also run (bash -euo pipefail) |
| `json`, `toml`, `yaml` | parsed |
| `js` | `node --check` |
| `nginx` | directives end in `;` or open a block, braces balance |
| `console` | the `$ ` lines (commands) pass `bash -n`; other lines are their output |
| `ini`, `systemd` | parsed as INI |
| `http` | request or status line, then `Name: value` headers, then any body |
| `text` | not code (trees, output): nothing to check |

A block that is not a whole program names a wrapper: ```` ```rust fragment=engine ````. The
wrapper is `wrappers/<name>.<ext>` next to this script; its line `BLOCK` is replaced by the
block, so the block still compiles and runs, inside a program that gives it what it uses
(an `engine`, a DPoP `client`, Django settings). A block without a language, or with one
not listed, fails: there is no way to skip a block.

Exits 1 when any block fails, naming each by file and line.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = Path(os.environ.get("KEYFOB_ROOT", HERE.parent.parent)).resolve()
WRAPPERS = HERE / "wrappers"
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")
EXTENSIONS = {"rust": "rs", "c": "c", "cpp": "cpp", "python": "py"}
ALIASES = {
    "sh": "bash",
    "shell": "bash",
    "py": "python",
    "c++": "cpp",
    "javascript": "js",
    "systemd": "ini",
    "yml": "yaml",
    "shell-session": "console",
}


@dataclass
class Block:
    path: Path
    line: int
    lang: str
    attrs: dict[str, str] = field(default_factory=dict)
    code: str = ""

    @property
    def where(self) -> str:
        try:
            shown = self.path.relative_to(ROOT)
        except ValueError:
            shown = self.path
        return f"{shown}:{self.line}"

    @property
    def ident(self) -> str:
        """A name for the block's files and Rust module, unique across the files checked."""
        try:
            shown = self.path.relative_to(ROOT)
        except ValueError:
            shown = self.path
        stem = re.sub(r"[^a-z0-9]+", "_", str(shown.with_suffix("")).lower()).strip("_")
        return f"b_{stem}_{self.line}"


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, de-indented (blocks may sit in list items)."""
    found: list[Block] = []
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m.group(1), m.group(2), m.group(3).strip()
        if fence[0] == "`" and "`" in info:  # inline code at a line's start, not a fence
            i += 1
            continue
        words = info.replace(",", " ").split()
        lang = ALIASES.get(words[0].lower(), words[0].lower()) if words else ""
        attrs = {}
        for word in words[1:]:
            key, _, value = word.partition("=")
            attrs[key] = value
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not (
            lines[j].strip().startswith(fence[0] * len(fence)) and lines[j].strip(fence[0]) == ""
        ):
            line = lines[j]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            j += 1
        found.append(Block(path, i + 1, lang, attrs, "\n".join(body) + "\n"))
        i = j + 1
    return found


# Attributes after the language, and the languages they apply to. Anything else fails: an
# attribute such as `ignore` or `no_run` must not look as if it skipped a block.
ATTRIBUTES = {"fragment": {"rust", "c", "cpp", "python"}, "run": {"bash"}}


def check_attributes(block: Block) -> None:
    for key, value in block.attrs.items():
        if block.lang not in ATTRIBUTES.get(key, ()):
            raise CheckError(
                f"attribute {key!r} means nothing on a {block.lang or 'language-less'} block "
                "(there is no way to skip a block; see docs/index.md)"
            )
        if key == "fragment" and not value:
            raise CheckError("fragment= names a wrapper")


def wrapped(block: Block, ext: str) -> str:
    """The block inside its wrapper, or alone when it names none."""
    name = block.attrs.get("fragment")
    if not name:
        return block.code
    wrapper = WRAPPERS / f"{name}.{ext}"
    if not wrapper.is_file():
        raise CheckError(f"no wrapper {wrapper.relative_to(ROOT)} for fragment={name}")
    text = wrapper.read_text()
    marker = re.compile(r"^[ \t]*(?:(?://|/\*|#) ?)?BLOCK(?: \*/)?$", re.M)
    if not marker.search(text):
        raise CheckError(f"wrapper {wrapper.name} has no BLOCK line")
    return marker.sub(lambda _: block.code, text, count=1)


class CheckError(Exception):
    pass


def run(
    cmd: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: int = 600,
) -> None:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise CheckError(
            f"`{' '.join(map(str, cmd))}` exited {proc.returncode}\n"
            f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
        )


def block_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("KEYFOB_SECRET", "docs-check-secret-of-at-least-32-bytes!")
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "examples" / "django"), env.get("PYTHONPATH", "")]
    )
    return env


# --- one check per language --------------------------------------------------------------


def check_python(block: Block, tmp: Path) -> None:
    source = tmp / f"{block.ident}.py"
    source.write_text(wrapped(block, "py"))
    run([sys.executable, str(source)], cwd=tmp, env=block_env(), timeout=120)


def check_bash(block: Block, tmp: Path) -> None:
    source = tmp / f"{block.ident}.sh"
    source.write_text(block.code)
    run(["bash", "-n", str(source)])
    if "run" in block.attrs:
        run(["bash", "-euo", "pipefail", str(source)], cwd=ROOT, env=block_env())


def check_c(block: Block, tmp: Path) -> None:
    ext = EXTENSIONS[block.lang]
    source = tmp / f"{block.ident}.{ext}"
    source.write_text(wrapped(block, ext))
    compiler = ["cc", "-std=c99"] if block.lang == "c" else ["c++", "-std=c++17"]
    libdir = Path(os.environ.get("KEYFOB_C_LIBDIR", ROOT / "target" / "debug"))
    exe = tmp / block.ident
    run(
        [
            *compiler,
            "-Wall",
            "-Wextra",
            "-Werror",
            f"-I{ROOT / 'include'}",
            str(source),
            f"-L{libdir}",
            "-lkeyfob",
            f"-Wl,-rpath,{libdir}",
            "-o",
            str(exe),
        ]
    )
    run([str(exe)], cwd=tmp, env=block_env(), timeout=60)


def check_json(block: Block, _: Path) -> None:
    try:
        json.loads(block.code)
    except ValueError as e:
        raise CheckError(f"not JSON: {e}") from e


def check_toml(block: Block, _: Path) -> None:
    try:
        tomllib.loads(block.code)
    except tomllib.TOMLDecodeError as e:
        raise CheckError(f"not TOML: {e}") from e


def check_yaml(block: Block, _: Path) -> None:
    import yaml  # PyYAML, from requirements-dev.txt

    try:
        list(yaml.safe_load_all(block.code))
    except yaml.YAMLError as e:
        raise CheckError(f"not YAML: {e}") from e


def check_js(block: Block, tmp: Path) -> None:
    source = tmp / f"{block.ident}.js"
    source.write_text(block.code)
    run(["node", "--check", str(source)])


def check_nginx(block: Block, _: Path) -> None:
    """nginx's grammar without its modules: words, `;`, `{`, `}`, comments, quotes."""
    depth, pending = 0, False
    for token in re.findall(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|#[^\n]*|[{};]|[^\s{};"\']+', block.code):
        if token.startswith("#"):
            continue
        if token == "{":
            if not pending:
                raise CheckError("nginx: `{` without a directive")
            depth, pending = depth + 1, False
        elif token == "}":
            if pending or depth == 0:
                raise CheckError("nginx: `}` after an unfinished directive or unopened")
            depth -= 1
        elif token == ";":
            if not pending:
                raise CheckError("nginx: empty directive")
            pending = False
        else:
            pending = True
    if depth or pending:
        raise CheckError("nginx: unclosed block or directive without `;`")


def check_console(block: Block, tmp: Path) -> None:
    """A shell session: the `$ ` lines are commands (bash -n), the rest their output."""
    commands = [line[2:] for line in block.code.splitlines() if line.startswith("$ ")]
    if not commands:
        raise CheckError("a console block shows at least one `$ ` command")
    check_bash(Block(block.path, block.line, "bash", {}, "\n".join(commands) + "\n"), tmp)


def check_ini(block: Block, _: Path) -> None:
    """INI files and systemd units (keys may repeat in a unit)."""
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string(block.code)
    except configparser.Error as e:
        raise CheckError(f"not INI: {e}") from e


HTTP_START = re.compile(r"^([A-Z]+ \S+ HTTP/\d(\.\d)?|HTTP/\d(\.\d)? \d{3}( .*)?)$")
HTTP_HEADER = re.compile(r"^[A-Za-z0-9-]+: ?.*$")


def check_http(block: Block, _: Path) -> None:
    """Requests and responses: a start line, headers, a blank line, then any body."""
    messages = re.split(r"\n(?=[A-Z]+ \S+ HTTP/|HTTP/\d)", block.code.strip("\n"))
    for message in messages:
        head = message.split("\n\n", 1)[0].splitlines()
        if not HTTP_START.match(head[0]):
            raise CheckError(f"http: not a request or status line: {head[0]!r}")
        for line in head[1:]:
            if not HTTP_HEADER.match(line):
                raise CheckError(f"http: not a header: {line!r}")


def check_text(_: Block, __: Path) -> None:
    pass


CHECKS = {
    "python": check_python,
    "bash": check_bash,
    "c": check_c,
    "cpp": check_c,
    "json": check_json,
    "toml": check_toml,
    "yaml": check_yaml,
    "js": check_js,
    "nginx": check_nginx,
    "console": check_console,
    "ini": check_ini,
    "http": check_http,
    "text": check_text,
}


# --- Rust: every block in one crate, each in its own module, run one after another ----------

RUST_MAIN = """\
//! Generated by scripts/doc-blocks/check.py: every `rust` block of the docs.
#![allow(unused, clippy::all)]

trait Outcome {
    fn check(self) -> Result<(), String>;
}
impl Outcome for () {
    fn check(self) -> Result<(), String> { Ok(()) }
}
impl<E: std::fmt::Debug> Outcome for Result<(), E> {
    fn check(self) -> Result<(), String> { self.map_err(|e| format!("returned Err({e:?})")) }
}

fn main() {
    let mut failed = 0;
    for (name, run) in BLOCKS {
        let outcome = std::panic::catch_unwind(run).unwrap_or_else(|_| Err("panicked".into()));
        if let Err(why) = outcome {
            eprintln!("FAIL {name}: {why}");
            failed += 1;
        }
    }
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
"""


def rust_module(block: Block) -> tuple[str, str]:
    code = wrapped(block, "rs")
    if re.search(r"^\s*(pub )?fn main\s*\(", code, re.M):
        code = re.sub(r"^(\s*)fn main\s*\(", r"\1pub fn main(", code, count=1, flags=re.M)
    else:
        code = f"pub fn main() -> Result<(), Box<dyn std::error::Error>> {{\n{code}\nOk(())\n}}\n"
    return f'#[path = "{block.ident}.rs"]\nmod {block.ident};\n', code


def check_rust(rust: list[Block], tmp: Path) -> list[str]:
    """Builds and runs the crate; returns the failures, by block."""
    if not rust:
        return []
    crate = tmp / "rust"
    (crate / "src").mkdir(parents=True)
    manifest = (HERE / "Cargo.toml.in").read_text().replace("@ROOT@", str(ROOT))
    (crate / "Cargo.toml").write_text(manifest)
    shutil.copy(ROOT / "Cargo.lock", crate / "Cargo.lock")
    mods, table, failures = [], [], []
    for block in rust:
        try:
            decl, code = rust_module(block)
        except CheckError as e:
            failures.append(f"{block.where}: {e}")
            continue
        (crate / "src" / f"{block.ident}.rs").write_text(code)
        mods.append(decl)
        table.append(f'    ("{block.where}", || {block.ident}::main().check()),')
    (crate / "src" / "main.rs").write_text(
        RUST_MAIN
        + "".join(mods)
        + "\nconst BLOCKS: &[(&str, fn() -> Result<(), String>)] = &[\n"
        + "\n".join(table)
        + "\n];\n"
    )
    env = block_env()
    env.setdefault("CARGO_TARGET_DIR", str(ROOT / "target"))
    env["RUST_BACKTRACE"] = "0"
    proc = subprocess.run(
        ["cargo", "run", "--quiet", "--manifest-path", str(crate / "Cargo.toml")],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if proc.returncode != 0:
        failures.append(
            f"rust blocks: cargo run exited {proc.returncode}\n"
            f"{proc.stdout[-6000:]}{proc.stderr[-6000:]}"
        )
    return failures


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    all_blocks = [b for arg in argv for b in blocks(Path(arg).resolve())]
    failures: list[str] = []
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="keyfob-doc-blocks-") as tmpdir:
        tmp = Path(tmpdir)
        rust = []
        for block in all_blocks:
            counts[block.lang or "(none)"] = counts.get(block.lang or "(none)", 0) + 1
            try:
                check_attributes(block)
            except CheckError as e:
                failures.append(f"{block.where}: {e}")
                continue
            if block.lang == "rust":
                rust.append(block)
                continue
            check = CHECKS.get(block.lang)
            try:
                if check is None:
                    raise CheckError(
                        f"language {block.lang!r} has no check: use one of "
                        f"rust, {', '.join(sorted(CHECKS))}"
                    )
                check(block, tmp)
            except (CheckError, subprocess.TimeoutExpired) as e:
                failures.append(f"{block.where}: {e}")
        failures += check_rust(rust, tmp)
    summary = ", ".join(f"{n} {lang}" for lang, n in sorted(counts.items()))
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    print(f"doc blocks: {len(all_blocks)} checked ({summary}); {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
