"""docs/file-format.md as data, and a comparison of it with real files in both directions.

The doc's part for each format (its `# ` heading names `kktflow-run` or `kktflow-sweep`) is cut
into sections at `##`/`###` headings. A heading's first backticked word starting with `/` is the
group (or dataset) it describes, "Root …" is `/`, any other heading holds tables that apply
anywhere in the file. Tables are read by their first header cell (see KINDS); each row's first
cell names one or more objects in backticks, `*optional*` anywhere in a row or heading marks what
not every file holds, and a `type` column is checked where it uses the words of TYPES.
"""
import dataclasses
import posixpath
import re

import h5py
import numpy as np

KINDS = ("attribute", "dataset", "dataset attribute", "group", "link")
FORMATS = ("kktflow-run", "kktflow-sweep")
OPTIONAL = re.compile(r"\*optional\*", re.IGNORECASE)
# Type words → (element type, is an array); None: documented but not checked (HDF5's own types).
TYPES = {"string": ("string", False), "string array": ("string", True), "int64": ("int64", False),
         "i64": ("int64", False), "int64 array": ("int64", True), "uint64": ("uint64", False),
         "f64": ("float64", False), "compound": None, "references": None}
EVERY_DATASET = "every dataset"


class DocError(ValueError):
    """The doc does not follow the table conventions this module reads."""


@dataclasses.dataclass
class Section:
    path: object  # "/", "/trajectory", "/checkpoint/slotK", or None: tables that apply anywhere
    optional: bool
    line: int
    parent: object = None  # the enclosing Section (a `###` under a `##`)

    def conditional(self):
        """Whether the group is one only some files hold (it or an enclosing section is optional)."""
        return self.optional or (self.parent is not None and self.parent.conditional())


@dataclasses.dataclass
class Row:
    kind: str
    section: Section
    names: list
    types: list  # per name: a set of (element type, array) alternatives, or None
    datasets: list  # dataset attribute rows: the names in the `datasets` column, or [EVERY_DATASET]
    optional: bool
    line: int

    def where(self):
        return f"docs/file-format.md:{self.line}"


def pattern(name):
    """A regex for a documented name: <placeholder> is any one path component, slotK any slot,
    case_NNNN any case."""
    out, position = "", 0
    for match in re.finditer(r"<[^>]+>|slotK|NNNN", name):
        out += re.escape(name[position:match.start()])
        out += {"slotK": r"slot\d+", "NNNN": r"\d+"}.get(match.group(), r"[^/]+")
        position = match.end()
    return re.compile(out + re.escape(name[position:]))


def join(group, name):
    return name if name.startswith("/") else posixpath.join(group, name)


def cells(line, number):
    text = line.strip()
    if not (text.startswith("|") and text.endswith("|")):
        raise DocError(f"docs/file-format.md:{number}: a table row must start and end with |")
    return [c.strip() for c in text[1:-1].split("|")]


def parse_types(cell, count, number):
    """The `type` cell as one set of alternatives per name ("string, int64" pairs with two names)."""
    words = re.sub(r"\([^)]*\)", "", cell).strip().lower()
    parts = [p.strip() for p in words.split(",")]
    if len(parts) not in (1, count):
        raise DocError(f"docs/file-format.md:{number}: {len(parts)} types for {count} names")
    per_part = []
    for part in parts:
        alternatives = set()
        for word in (w.strip() for w in part.split(" or ")):
            if word not in TYPES:
                raise DocError(f"docs/file-format.md:{number}: unknown type {word!r} (known: {sorted(TYPES)})")
            alternatives.add(TYPES[word])
        per_part.append(None if None in alternatives else alternatives)
    return per_part * count if len(per_part) == 1 else per_part


def heading_section(text, number, enclosing):
    level = len(text) - len(text.lstrip("#"))
    words = text.lstrip("#").strip()
    paths = [w for w in re.findall(r"`([^`]+)`", words) if w.startswith("/")]
    path = paths[0].rstrip("/") or "/" if paths else ("/" if words.startswith("Root") else None)
    parent = enclosing if level == 3 and enclosing is not None and enclosing.path else None
    return level, Section(path, bool(OPTIONAL.search(words)), number, parent)


def parse(text):
    """{format: (sections, rows)} from the doc's text."""
    parts = {f: ([], []) for f in FORMATS}
    current, section, level2 = None, None, None
    lines = text.split("\n")
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        if line.startswith("# "):
            current = next((f for f in FORMATS if f"`{f}`" in line), None)
            section = level2 = None
        elif line.startswith(("## ", "### ")) and current:
            level, section = heading_section(line, number, level2)
            level2 = section if level == 2 else level2
            parts[current][0].append(section)
        elif line.startswith("|") and current and section and number < len(lines) and lines[number].startswith("|--"):
            header = [re.sub(r"\s*\(.*\)", "", c).lower() for c in cells(line, number)]
            number += 1  # the |---| line
            while number < len(lines) and lines[number].startswith("|"):
                row = cells(lines[number], number + 1)
                number += 1
                if header[0] not in KINDS:
                    continue
                if len(row) != len(header):
                    raise DocError(f"docs/file-format.md:{number}: {len(row)} cells under {len(header)} headers")
                parts[current][1].append(make_row(header, row, section, number))
    for name, (sections, rows) in parts.items():
        if not rows:
            raise DocError(f"docs/file-format.md: no tables found for {name}")
    return parts


def make_row(header, row, section, number):
    names = re.findall(r"`([^`]+)`", row[0])
    if not names:
        raise DocError(f"docs/file-format.md:{number}: no `name` in the first cell")
    types = parse_types(row[header.index("type")], len(names), number) if "type" in header else [None] * len(names)
    datasets = []
    if header[0] == "dataset attribute":
        column = row[header.index("datasets")]
        datasets = re.findall(r"`([^`]+)`", column) or ([EVERY_DATASET] if column.startswith(EVERY_DATASET) else [])
        if not datasets and section.path is not None:
            raise DocError(f"docs/file-format.md:{number}: the datasets column names no dataset")
    return Row(header[0], section, names, types, datasets, bool(OPTIONAL.search(" ".join(row))), number)


# ---- what a file holds -------------------------------------------------------------------------

@dataclasses.dataclass(repr=False)
class Observed:
    """Every object of a file by path, its kind, and the attributes of each (name → (type, array))."""

    path: str
    kinds: dict
    attributes: dict
    dtypes: dict  # dataset path → its element type

    def __repr__(self):
        return f"Observed({self.path})"

    def datasets_in(self, group):
        return [p for p, k in self.kinds.items() if k == "dataset" and posixpath.dirname(p) == group]


def type_of(dtype, shape):
    if h5py.check_string_dtype(dtype) is not None:
        element = "string"
    elif dtype.kind in "iuf" and dtype.itemsize == 8:
        element = {"i": "int64", "u": "uint64", "f": "float64"}[dtype.kind]
    else:
        element = str(dtype)
    return element, len(shape) > 0


def observe(path):
    kinds, attributes, dtypes = {"/": "group"}, {}, {}

    def attrs_of(obj, where):
        attributes[where] = {name: type_of(obj.attrs.get_id(name).dtype, obj.attrs.get_id(name).shape)
                             for name in obj.attrs}

    def walk(group, where):
        attrs_of(group, where)
        for name in group:
            child = join(where, name)
            link = group.get(name, getlink=True)
            if isinstance(link, (h5py.ExternalLink, h5py.SoftLink)):
                kinds[child] = "link"
                continue
            obj = group[name]
            if isinstance(obj, h5py.Group):
                kinds[child] = "group"
                walk(obj, child)
            else:
                kinds[child] = "dataset"
                attrs_of(obj, child)
                dtypes[child] = type_of(obj.dtype, ())[0]

    with h5py.File(path, "r") as f:
        walk(f, "/")
    return Observed(str(path), kinds, attributes, dtypes)


# ---- the comparison ----------------------------------------------------------------------------

@dataclasses.dataclass
class Documented:
    """An object the doc names: a heading's group (kind None: any kind) or a table row's entry."""

    rx: re.Pattern
    kind: object
    optional: bool
    where: str
    types: object
    section: Section

    def key(self):
        return f"{self.where} {self.rx.pattern}"


def objects_of(sections, rows):
    out = [Documented(pattern(s.path), None, s.optional, f"docs/file-format.md:{s.line}", None, s)
           for s in sections if s.path and s.path != "/"]
    for r in rows:
        if r.kind in ("dataset", "group", "link") and r.section.path:
            out += [Documented(pattern(join(r.section.path, name)), r.kind, r.optional, r.where(), types, r.section)
                    for name, types in zip(r.names, r.types)]
    return out


def shown(types):
    """A documented or observed type as the doc writes it: f64, string array, …"""
    words = {"float64": "f64"}
    return " or ".join(sorted(f"{words.get(t, t)}{' array' if array else ''}" for t, array in types))


def groups_matching(obs, section):
    rx = pattern(section.path)
    return [p for p, k in obs.kinds.items() if k == "group" and rx.fullmatch(p)]


def compare(sections, rows, files):
    """Problems, one line each, between the doc's sections and rows and the observed files: what a
    file holds and the doc does not name, what the doc names and a file lacks, and optional rows
    that no file holds (a stale row, or a kind of file the test should add)."""
    problems, seen = [], set()
    documented = objects_of(sections, rows)
    anywhere = {n for r in rows if r.kind == "dataset attribute" and r.section.path is None for n in r.names}
    for obs in files:
        problems += undocumented_objects(obs, documented)
        problems += undocumented_attributes(obs, rows, anywhere)
        problems += absent_objects(obs, documented, seen)
        problems += absent_attributes(obs, rows, seen)
    for d in documented:
        if (d.optional or d.section.conditional()) and d.key() not in seen:
            problems.append(f"{d.rx.pattern} ({d.where}) is documented as optional but in none of the files")
    for r in rows:
        for name in r.names if r.kind in ("attribute", "dataset attribute") else []:
            if (r.optional or r.section.conditional()) and f"{r.where()}@{name}" not in seen:
                problems.append(f"attribute {name} ({r.where()}) is documented as optional but in none of the files")
    return [f"{p} (files: {', '.join(o.path for o in files)})" if "none of the files" in p else p for p in problems]


def undocumented_objects(obs, documented):
    """Every group, dataset and link of the file is documented, datasets with their type."""
    problems = []
    for path, kind in obs.kinds.items():
        match = [d for d in documented if d.rx.fullmatch(path) and d.kind in (None, kind)]
        if path == "/":
            continue
        if not match:
            problems.append(f"{obs.path}: {path} ({kind}) is not in docs/file-format.md")
            continue
        typed = [d for d in match if d.types is not None]
        got = obs.dtypes.get(path)
        if kind == "dataset" and typed and not any(got in {t for t, _ in d.types} for d in typed):
            problems.append(f"{obs.path}: {path} holds {shown([(got, False)])}, the doc says "
                            f"{shown(typed[0].types)} ({typed[0].where})")
    return problems


def absent_objects(obs, documented, seen):
    """Every documented object is in the file, unless optional or in a group the file lacks."""
    problems = []
    for d in documented:
        if any(d.rx.fullmatch(p) and d.kind in (None, k) for p, k in obs.kinds.items()):
            seen.add(d.key())
        elif d.kind is None and not d.section.conditional():
            problems.append(f"{obs.path}: the group {d.rx.pattern} ({d.where}) is documented but absent")
        elif d.kind is not None and not d.optional and groups_matching(obs, d.section):
            problems.append(f"{obs.path}: {d.rx.pattern} ({d.kind}, {d.where}) is documented but absent")
    return problems


def covering_rows(rows, obs, path, name):
    """The documented rows that name attribute `name` of the object at `path`."""
    kind, out = obs.kinds[path], []
    for r in rows:
        if r.section.path is None or not any(pattern(n).fullmatch(name) for n in r.names):
            continue
        if kind == "group" and r.kind == "attribute" and pattern(r.section.path).fullmatch(path):
            out.append(r)
        if (kind == "dataset" and r.kind == "dataset attribute"
                and pattern(r.section.path).fullmatch(posixpath.dirname(path)) and names_dataset(r, path)):
            out.append(r)
    return out


def names_dataset(row, path):
    base = posixpath.basename(path)
    return EVERY_DATASET in row.datasets or any(pattern(d).fullmatch(base) for d in row.datasets)


def undocumented_attributes(obs, rows, anywhere):
    """Every attribute the file holds is documented for its object, with the documented type."""
    problems = []
    for path, attributes in obs.attributes.items():
        for name, got in attributes.items():
            if obs.kinds[path] == "dataset" and name in anywhere:
                continue
            covering = covering_rows(rows, obs, path, name)
            if not covering:
                problems.append(f"{obs.path}: attribute {name} of {path} ({obs.kinds[path]}) is not in docs/file-format.md")
                continue
            types = [r.types[[pattern(n).fullmatch(name) is not None for n in r.names].index(True)] for r in covering]
            if all(t is not None and got not in t for t in types):
                problems.append(f"{obs.path}: attribute {name} of {path} is {shown([got])}, the doc says "
                                f"{shown(types[0])} ({covering[0].where()})")
    return problems


def absent_attributes(obs, rows, seen):
    """Every documented attribute is on each object it is documented for (optional ones may be
    missing; those found are noted in `seen`)."""
    problems = []
    for r in rows:
        if r.kind not in ("attribute", "dataset attribute"):
            continue
        if r.section.path is None:
            targets = [p for p, k in obs.kinds.items() if k == "dataset"]
        elif r.kind == "attribute":
            targets = groups_matching(obs, r.section)
        else:
            targets = [d for g in groups_matching(obs, r.section) for d in obs.datasets_in(g) if names_dataset(r, d)]
        for name in r.names:
            holders = [t for t in targets if name in obs.attributes.get(t, {})]
            if holders:
                seen.add(f"{r.where()}@{name}")
            if r.optional:
                continue
            if r.section.path is None and not holders:
                problems.append(f"{obs.path}: no dataset carries {name} ({r.where()})")
            elif r.section.path is not None:
                problems += [f"{obs.path}: {t} lacks the attribute {name} ({r.where()})" for t in sorted(set(targets) - set(holders))]
    return problems


def format_of(path):
    with h5py.File(path, "r") as f:
        value = f.attrs.get("format", b"")
    return value.decode() if isinstance(value, (bytes, np.bytes_)) else str(value)
