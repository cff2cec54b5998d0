"""The watched inbox is an attack surface: what lands there may be read, never run, never followed.

Clerks' scanners and shares write into the inbox, so nothing written there may steer code. The floor is OCRmyPDF's
watcher hardening:

- refuse to start when the inbox, archive or output folders overlap the code, the virtualenv or the interpreter's
  paths, or when the archive or an output folder lies inside the inbox (an endless re-read loop);
- accept only regular files checked with `lstat` (no symlinks, FIFOs, devices, sockets) whose resolved path stays
  inside the inbox, and check again on the opened descriptor just before reading;
- write only regular files inside the intended folder.

Every reason is Japanese first, then English, for the clerk who reads it. Plain functions, no Prefect, no ledger.
"""
from __future__ import annotations

import os
import stat
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

REPO_ROOT = Path(__file__).resolve().parent.parent
# Every top-level folder of the checkout holds code, templates, settings or git's hooks, except these data and
# cache folders: a data folder may be neither inside a code folder nor hold one.
DATA_FOLDERS = frozenset({"var", "reports", "build", "dist", ".pytest_cache", ".hypothesis", ".stamps"})
# A scanner still writing a file keeps changing its size or time: one wait this long shows it.
DEFAULT_SETTLE_SECONDS = 1.0


class UnsafeLayout(Exception):
    """The folders given would let inbox content reach code, or make the intake re-read its own output."""


class UnsafeInboxFile(Exception):
    """A file in the inbox that must not be opened; the message says why (Japanese first)."""


# ---- the folder layout -------------------------------------------------------------------------------------------

def _real(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.realpath(os.path.abspath(os.fspath(path))))


def _inside(child: Path, parent: Path) -> bool:
    """True when `child` is `parent` or lies below it (both already resolved)."""
    return child == parent or parent in child.parents


def protected_trees() -> list[Path]:
    """Folders no data folder may lie in or contain: our code, the virtualenv, the interpreter's installation."""
    trees = [path for path in REPO_ROOT.iterdir()
             if path.is_dir() and path.name not in DATA_FOLDERS and not path.name.endswith(".egg-info")]
    trees += _git_dirs()
    trees += [Path(p) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}]
    trees.append(Path(sys.executable).parent)
    for key in ("stdlib", "platstdlib", "purelib", "platlib", "scripts", "include"):
        location = sysconfig.get_paths().get(key)
        if location:
            trees.append(Path(location))
    return _unique_real(trees)


def _git_dirs() -> list[Path]:
    """A worktree's `.git` is a file naming its git folder, whose hooks live in the common `.git` two levels up."""
    marker = REPO_ROOT / ".git"
    if not marker.is_file():
        return []
    text = marker.read_text(encoding="utf-8", errors="replace").strip()
    if not text.startswith("gitdir:"):
        return []
    git_dir = (REPO_ROOT / text.removeprefix("gitdir:").strip()).resolve()
    return [git_dir, git_dir.parent.parent] if git_dir.parent.name == "worktrees" else [git_dir]


def import_roots() -> list[Path]:
    """The folders Python imports top-level modules from: a data folder may not be one, nor contain one."""
    roots = [Path(entry or os.getcwd()) for entry in sys.path if entry is not None]
    roots.append(REPO_ROOT)
    return _unique_real(p for p in roots if p.is_dir())


def _unique_real(paths: Iterable[Path]) -> list[Path]:
    seen: dict[Path, None] = {}
    for path in paths:
        seen.setdefault(_real(path), None)
    return list(seen)


def layout_problems(inbox: str | os.PathLike[str], archive: str | os.PathLike[str],
                    outputs: Iterable[str | os.PathLike[str]] = ()) -> list[str]:
    """Every reason the layout is unsafe (empty when it is safe). `outputs`: results, evidence, reports..."""
    named = {"受付箱 inbox": _real(inbox), "保管庫 archive": _real(archive)}
    for index, output in enumerate(outputs, start=1):
        named[f"出力先{index} output {index}"] = _real(output)
    problems: list[str] = []
    for label, folder in named.items():
        for tree in protected_trees():
            if _inside(folder, tree) or _inside(tree, folder):
                problems.append(f"{label}（{folder}）がプログラムまたはPython環境（{tree}）と重なっています / "
                                f"the {label.split()[-1]} folder overlaps code or the Python installation")
                break
        else:
            for root in import_roots():
                if _inside(root, folder):
                    problems.append(f"{label}（{folder}）にPythonが読み込むフォルダ（{root}）が含まれます / "
                                    f"the {label.split()[-1]} folder is, or holds, a folder Python imports from")
                    break
    inbox_real = named.pop("受付箱 inbox")
    for label, folder in named.items():
        if _inside(folder, inbox_real):
            problems.append(f"{label}（{folder}）が受付箱の中にあります（同じファイルを読み続けてしまいます）/ "
                            f"the {label.split()[-1]} folder lies inside the inbox (an endless re-read loop)")
        elif _inside(inbox_real, folder):
            problems.append(f"受付箱が{label}（{folder}）の中にあります / the inbox lies inside the "
                            f"{label.split()[-1]} folder")
    return problems


def assert_safe_layout(inbox: str | os.PathLike[str], archive: str | os.PathLike[str],
                       outputs: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Raise UnsafeLayout with every reason when the folders are unsafe to run with."""
    problems = layout_problems(inbox, archive, outputs)
    if problems:
        raise UnsafeLayout("フォルダ構成が安全ではないため開始しません / refusing to start: " + "; ".join(problems))


# ---- one file in the inbox ---------------------------------------------------------------------------------------

def _kind_problem(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "シンボリックリンクは受け付けません / symbolic links are not accepted"
    if stat.S_ISFIFO(mode):
        return "名前付きパイプ（FIFO）は受け付けません / named pipes (FIFO) are not accepted"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "デバイスファイルは受け付けません / device files are not accepted"
    if stat.S_ISSOCK(mode):
        return "ソケットは受け付けません / sockets are not accepted"
    if stat.S_ISDIR(mode):
        return "フォルダです（ファイルではありません）/ a folder, not a file"
    return "通常のファイルではありません / not a regular file"


def inbox_candidate_problem(path: str | os.PathLike[str], inbox: str | os.PathLike[str]) -> str | None:
    """Why `path` must not be read as a scan (None: it is a regular file that really lies inside `inbox`).

    Checked with lstat, so a symlink is seen as a link and never followed; the resolved path must stay inside the
    inbox, which catches an escape through a symlinked parent folder.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "ファイルが見つかりません（移動または削除されました）/ the file is gone"
    except OSError as exc:
        return f"ファイルの情報を読めません / cannot stat the file: {type(exc).__name__}"
    problem = _kind_problem(info.st_mode)
    if problem:
        return problem
    if not _inside(_real(path), _real(inbox)):
        return "受付箱の外を指しています（リンクされたフォルダ経由）/ the file resolves outside the inbox"
    return None


def open_inbox_file(path: str | os.PathLike[str], inbox: str | os.PathLike[str]) -> BinaryIO:
    """Open a scan for reading after checking it again, on the descriptor itself.

    O_NOFOLLOW refuses a file swapped for a symlink since the scan; O_NONBLOCK keeps a swapped-in FIFO from hanging
    the open; fstat on the open descriptor and the path the kernel actually opened must still say "a regular file
    inside the inbox". Raises UnsafeInboxFile with a clerk's reason.
    """
    problem = inbox_candidate_problem(path, inbox)
    if problem:
        raise UnsafeInboxFile(problem)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        raise UnsafeInboxFile(f"ファイルを開けません（直前に差し替えられた可能性）/ cannot open the file: "
                              f"{type(exc).__name__}") from exc
    try:
        problem = _kind_problem(os.fstat(descriptor).st_mode)
        opened = _opened_path(descriptor)
        if problem is None and opened is not None and not _inside(opened, _real(inbox)):
            problem = "受付箱の外を指しています（リンクされたフォルダ経由）/ the file resolves outside the inbox"
        if problem:
            raise UnsafeInboxFile(problem)
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _opened_path(descriptor: int) -> Path | None:
    """Where the kernel says the descriptor points (Linux /proc); None where the system does not tell."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{descriptor}"))
    except OSError:
        return None


# ---- writing -----------------------------------------------------------------------------------------------------

def safe_output_path(folder: str | os.PathLike[str], name: str) -> Path:
    """`folder/name` for a plain file name; refuses separators, `..`, and an existing non-regular target."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise UnsafeInboxFile(f"書き込み先の名前が不正です / unsafe output name: {name!r}")
    target = Path(folder) / name
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return target
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeInboxFile(f"書き込み先が通常のファイルではありません / the output target is not a regular "
                              f"file: {name}")
    return target


def write_file_inside(folder: str | os.PathLike[str], name: str, data: bytes, mode: int = 0o640) -> Path:
    """Write `data` to `folder/name` as a regular file: a temporary file in the same folder, then a rename.

    A symlink, FIFO or device planted under that name is refused, never followed or replaced.
    """
    folder_path = Path(folder)
    folder_path.mkdir(parents=True, exist_ok=True)
    target = safe_output_path(folder_path, name)
    descriptor, temporary = tempfile.mkstemp(dir=folder_path, prefix=".partial-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


# ---- the whole inbox ---------------------------------------------------------------------------------------------

def is_hidden_or_temporary(name: str) -> bool:
    """Dot files and Office lock files are left alone: copy tools write them first and rename when done."""
    return name.startswith(".") or name.startswith("~$")


def list_inbox(inbox: str | os.PathLike[str], settle_seconds: float = DEFAULT_SETTLE_SECONDS
               ) -> tuple[list[Path], list[tuple[Path, str]], list[Path]]:
    """(files to read, (entry, why refused) pairs, files still being written), each in a stable order.

    Walks without following symlinked folders; a symlinked folder is itself refused. A file whose size or time
    changes while we wait `settle_seconds` is still being written and waits for the next run. Every entry of any
    kind is accounted for in one of the three lists, except hidden and temporary files.
    """
    accepted: list[Path] = []
    refused: list[tuple[Path, str]] = []
    for folder, dir_names, file_names in os.walk(inbox, followlinks=False):
        dir_names.sort()
        for dir_name in list(dir_names):
            if os.path.islink(os.path.join(folder, dir_name)):
                dir_names.remove(dir_name)
                file_names.append(dir_name)
            elif is_hidden_or_temporary(dir_name):
                dir_names.remove(dir_name)
        for name in sorted(file_names):
            if is_hidden_or_temporary(name):
                continue
            path = Path(folder) / name
            problem = inbox_candidate_problem(path, inbox)
            if problem:
                refused.append((path, problem))
            else:
                accepted.append(path)
    changing = still_changing(accepted, settle_seconds)
    return [p for p in accepted if p not in changing], refused, [p for p in accepted if p in changing]


def _snapshot(path: Path) -> tuple[int, int, int] | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def still_changing(paths: Iterable[Path], wait_seconds: float) -> set[Path]:
    """The files whose inode, size or time moved during one wait of `wait_seconds` (one wait for all of them), and
    those a process still holds open for writing (`flows.inbox_writers`, Linux)."""
    paths = list(paths)
    if wait_seconds <= 0 or not paths:
        return set()
    before = {path: _snapshot(path) for path in paths}
    time.sleep(wait_seconds)
    from flows.inbox_writers import open_for_writing

    return {path for path in paths if _snapshot(path) != before[path]} | open_for_writing(paths)


def display_name(name: str) -> str:
    """A clerk's file name as we may show, log or store it: every 12-digit run (a 個人番号?) masked, however
    grouped, and control and direction characters (newlines, tabs, RTL overrides) shown as `_`, so a name can
    neither hide a number nor forge a log line."""
    import unicodedata

    from ledger.privacy import mask_personal_numbers

    masked = mask_personal_numbers(unicodedata.normalize("NFC", name)) or ""
    return "".join("_" if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") else ch for ch in masked)


def set_aside(path: Path, folder: Path) -> Path | None:
    """Move a refused entry (a link, a FIFO, a device) out of the inbox without opening or following it.

    rename() moves the entry itself, so the original is kept exactly as it came; None when it cannot be moved
    (another disk), and then it stays where it is.
    """
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    safe = "".join(c if c.isalnum() or c in "._- " else "_" for c in display_name(path.name).replace("*", "x"))
    target = folder / f"{stamp}_{safe}"[:200]
    counter = 1
    while os.path.lexists(target):
        counter += 1
        target = folder / f"{stamp}_{counter}_{safe}"[:200]
    try:
        os.rename(path, target)
    except OSError:
        return None
    return target
