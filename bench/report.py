#!/usr/bin/env python3
"""Writes docs/BENCHMARKS.md and its plots from the figures bench/report.sh collected.

    python bench/report.py OUT_DIR MARKDOWN IMG_DIR

OUT_DIR holds values.json (`fieldcrypt bench --json --sizes`), fernet-SIZE.json
(bench/fernet_bench.py), tables.json (`customers bench --json-out`), jobs.json (bench/migrate.sh
with BENCH_JSON), server.json (bench/server_load.sh), files.json (bench/files.sh) and machine.txt.
Every ratio on the page compares two figures of the same run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Issue 18's starting point, as recorded before this work (README "Performance", 2026-11-23, and
# the issue's own measurement): not from this run, shown for the before/after comparison only.
BEFORE = {
    "64 B seal + open, value by value": "1,421-1,690 ns; 4.8-6.6x raw AES-256-GCM (raw 215-352 ns)",
    "64 B seal + open, batch (nonces drawn in blocks)": "1,455 ns; 3.76x raw",
    "64 B against Python's Fernet": "14.1-17.5x faster",
    "PostgreSQL, 100,000 rows: select / insert": "3.6-4.7x / 1.7-2.1x plaintext's time",
    "encrypt-column / rotate, 1,000,000 rows": "43-49% / 43-54% of plain UPDATE",
}


def load(path: Path):
    return json.loads(path.read_text())


def fmt(n: float, digits: int = 0) -> str:
    return f"{n:,.{digits}f}"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def main() -> int:
    out, markdown, img = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    img.mkdir(parents=True, exist_ok=True)
    machine = dict(
        line.split("=", 1) for line in (out / "machine.txt").read_text().splitlines() if "=" in line
    )
    values = load(out / "values.json")
    sizes = values["per_size"]
    fernet = {s["bytes"]: load(out / f"fernet-{s['bytes']}.json")["seal_open_us"] * 1000 for s in sizes}
    tables = load(out / "tables.json")
    jobs = load(out / "jobs.json")
    server = load(out / "server.json")
    files = load(out / "files.json")

    lines: list[str] = []
    add = lines.append
    add("# Benchmarks")
    add("")
    add(
        f"Written by `{machine['command']}` on {machine['date']} at commit `{machine['commit']}`; "
        "every ratio compares two figures measured in the same run, on the same machine. "
        "Not a test: the targets below are issue 18's, checked here, never in CI."
    )
    if machine.get("quick") == "1":
        add("")
        add("**A quick run** (`--quick`: shorter timings, smaller tables); the full run is the reference.")
    add("")
    add(
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory']}; Linux "
        f"{machine['kernel']}; {machine['rustc']}; PostgreSQL {machine['postgres']}, SQLite "
        f"{machine['sqlite']}. Nonces: {values.get('nonce_source', 'unknown')}."
    )
    add("")

    # One value, by size.
    add("## One value: seal + open, by size")
    add("")
    add(
        "`fieldcrypt bench --sizes` (one thread, best of five rounds): raw AES-256-GCM with a "
        "prepared key and a counter nonce (the cheapest AEAD there is: no key derivation, no "
        "commitment, no context, no type); the KC-XAES-256-GCM envelope value by value (a fresh "
        "24-byte nonce from the kernel for each); the same through a batch sealer (`Sealer`: one "
        "nonce prefix and derived key per 256 values, a fresh suffix each, read back in order); "
        "and Python's `cryptography` Fernet (bench/fernet_bench.py), what django-encrypted-model-fields runs."
    )
    add("")
    add("| value | raw AES-256-GCM | fieldcrypt, value by value | fieldcrypt, batch | Python Fernet | Fernet / fieldcrypt |")
    add("| --- | --- | --- | --- | --- | --- |")
    for s in sizes:
        b, raw, val, batch = s["bytes"], s["raw_aes256gcm_ns"], s["kc_xaes_ns"], s["kc_xaes_batch_ns"]
        add(
            f"| {fmt(b)} B | {fmt(raw)} ns | {fmt(val)} ns ({val / raw:.2f}x) | {fmt(batch)} ns "
            f"({batch / raw:.2f}x) | {fmt(fernet[b])} ns | {fernet[b] / val:.1f}x |"
        )
    add("")
    fig, ax = plt.subplots(figsize=(7, 4.2))
    xs = [s["bytes"] for s in sizes]
    ax.plot(xs, [s["raw_aes256gcm_ns"] for s in sizes], "o-", label="raw AES-256-GCM (prepared key)")
    ax.plot(xs, [s["kc_xaes_ns"] for s in sizes], "s-", label="fieldcrypt, value by value")
    ax.plot(xs, [s["kc_xaes_batch_ns"] for s in sizes], "^-", label="fieldcrypt, batch (Sealer)")
    ax.plot(xs, [fernet[x] for x in xs], "d-", label="Python Fernet (cryptography)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("value size (bytes)")
    ax.set_ylabel("seal + open (ns, log scale)")
    ax.set_title("Cost per value, by size (lower is better)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(img / "bench-per-value.png", dpi=110)
    plt.close(fig)
    add("![Cost per value by size: fieldcrypt, raw AES-GCM and Fernet](img/bench-per-value.png)")
    add("")
    s64 = next((s for s in sizes if s["bytes"] == 64), None)
    add("Targets:")
    add("")
    if s64:
        r_val = s64["kc_xaes_ns"] / s64["raw_aes256gcm_ns"]
        r_batch = s64["kc_xaes_batch_ns"] / s64["raw_aes256gcm_ns"]
        r_fernet = fernet[64] / s64["kc_xaes_ns"]
        add(f"- 64 B value by value at most 3.5x raw: {r_val:.2f}x, {verdict(r_val <= 3.5)}.")
        add(f"- 64 B in a batch at most 2.5x raw: {r_batch:.2f}x, {verdict(r_batch <= 2.5)}.")
        add(f"- 64 B at least 25x faster than Fernet: {r_fernet:.1f}x, {verdict(r_fernet >= 25)}.")
    tput = values["throughput_fraction_1mib"]
    add(
        f"- 1 MiB at 90% of raw or better: {tput:.0%} ({fmt(values['kc_xaes_1mib_mb_per_s'])} MB/s "
        f"against {fmt(values['raw_aes256gcm_1mib_mb_per_s'])}), {verdict(tput >= 0.9)}."
    )
    ix = values["blind_index_64b_ns"]
    add(
        f"- Blind index under 1 µs: {fmt(ix)} ns ({fmt(values['blind_index_64b_normalised_ns'])} ns "
        f"with nfkc,trim,casefold), {verdict(max(ix, values['blind_index_64b_normalised_ns']) < 1000)}."
    )
    add("")

    # Whole tables.
    add(f"## Whole tables through sqlx ({fmt(tables['rows'])} rows)")
    add("")
    add(
        "`customers bench` (workload in [SQLX.md](SQLX.md#performance): name, email and notes "
        "encrypted, one 16-bit blind index; one connection): the plaintext table and the encrypted "
        "one in the same run. *select, all cores* decodes the encrypted rows 10,000 at a time on "
        "every core (`fieldcrypt_sqlx::rows`); the other figures use one thread. Django: the same "
        "workload through the Django ORM with django-encrypted-model-fields (bench/django_bench.py) "
        "on the same PostgreSQL. *x plain* is time per row against plaintext's."
    )
    add("")
    add("| database | operation | plaintext rows/s | fieldcrypt rows/s | x plain | Django + encrypted fields rows/s | fieldcrypt / Django |")
    add("| --- | --- | --- | --- | --- | --- | --- |")
    django = tables.get("django") or {}
    django_enc = django.get("encrypted", {}) if isinstance(django, dict) else {}
    ops = [
        ("insert", "insert_rows_per_s", "insert_rows_per_s"),
        ("select", "select_rows_per_s", "select_rows_per_s"),
        ("select, all cores", "select_all_cores_rows_per_s", "select_rows_per_s"),
        ("lookup", "lookups_per_s", "lookups_per_s"),
    ]
    for db in ("postgres", "sqlite"):
        if db not in tables:
            continue
        plain, enc = tables[db]["plaintext"], tables[db]["encrypted"]
        for name, key, plain_key in ops:
            p, e = plain[plain_key], enc[key]
            d = django_enc.get(plain_key) if db == "postgres" else None
            dj = f"{fmt(d)} | {e / d:.1f}x" if d else "| "
            add(f"| {db} | {name} | {fmt(p)} | {fmt(e)} | {p / e:.2f}x | {dj} |")
    add("")
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    pg = tables.get("postgres")
    if pg:
        labels = ["insert", "select", "lookup"]
        keys = ["insert_rows_per_s", "select_rows_per_s", "lookups_per_s"]
        width = 0.2
        series = [
            ("plaintext (sqlx)", [pg["plaintext"][k] for k in keys]),
            ("fieldcrypt (sqlx)", [pg["encrypted"][k] for k in keys]),
            (
                "fieldcrypt, select on all cores",
                [0, pg["encrypted"]["select_all_cores_rows_per_s"], 0],
            ),
            ("Django + django-encrypted-model-fields", [django_enc.get(k, 0) for k in keys]),
        ]
        for i, (name, ys) in enumerate(series):
            ax.bar([x + (i - 1.5) * width for x in range(len(labels))], ys, width, label=name)
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yscale("log")
        ax.set_ylabel("rows (lookups) per second, log scale")
        ax.set_title(f"PostgreSQL, {fmt(tables['rows'])} rows (higher is better)")
        ax.legend(fontsize=8)
        ax.grid(True, axis="y", which="both", alpha=0.3)
        fig.tight_layout()
        fig.savefig(img / "bench-tables.png", dpi=110)
        plt.close(fig)
        add("![Rows per second by system on PostgreSQL](img/bench-tables.png)")
        add("")
    add("Targets:")
    add("")
    for db in ("postgres", "sqlite"):
        if db not in tables:
            continue
        plain, enc = tables[db]["plaintext"], tables[db]["encrypted"]
        sel = plain["select_rows_per_s"] / enc["select_all_cores_rows_per_s"]
        ins = plain["insert_rows_per_s"] / enc["insert_rows_per_s"]
        add(f"- {db}: select at most 2x plaintext's time: {sel:.2f}x, {verdict(sel <= 2)}; "
            f"insert at most 1.5x: {ins:.2f}x, {verdict(ins <= 1.5)}.")
    add("")

    # Column jobs.
    add(f"## Column jobs ({fmt(jobs['rows'])} rows, PostgreSQL)")
    add("")
    add(
        "bench/migrate.sh: each job beside `UPDATE t SET c2 = c` over the same table in the same "
        "run (the whole command, its verification pass included)."
    )
    add("")
    add("| job | rows/s | plain UPDATE rows/s | share |")
    add("| --- | --- | --- | --- |")
    enc_share = jobs["encrypt_column_rows_per_s"] / jobs["update_plain_rows_per_s"]
    rot_share = jobs["rotate_rows_per_s"] / jobs["update_envelopes_rows_per_s"]
    add(f"| encrypt-column (+ blind index) | {fmt(jobs['encrypt_column_rows_per_s'])} | {fmt(jobs['update_plain_rows_per_s'])} | {enc_share:.0%} |")
    add(f"| rotate | {fmt(jobs['rotate_rows_per_s'])} | {fmt(jobs['update_envelopes_rows_per_s'])} | {rot_share:.0%} |")
    sharded = jobs.get("rotate_2_shards_rows_per_s")
    if sharded:
        add(f"| rotate as 2 shards (`--shard 1/2`, `--shard 2/2` at once) | {fmt(sharded)} | {fmt(jobs['update_envelopes_rows_per_s'])} | {sharded / jobs['update_envelopes_rows_per_s']:.0%} |")
    add("")
    add(f"Target: at least half the plain UPDATE's rate: encrypt-column {verdict(enc_share >= 0.5)}, rotate {verdict(rot_share >= 0.5)}.")
    if sharded:
        add(
            f"Two shards on this 2-core machine, against one process: {sharded / jobs['rotate_rows_per_s']:.2f}x "
            "(the database and both processes share the two cores)."
        )
    add("")
    fig, ax = plt.subplots(figsize=(6, 3.2))
    names = ["encrypt-column", "rotate"]
    baselines = [jobs["update_plain_rows_per_s"], jobs["update_envelopes_rows_per_s"]]
    ours = [jobs["encrypt_column_rows_per_s"], jobs["rotate_rows_per_s"]]
    if sharded:
        names.append("rotate, 2 shards")
        baselines.append(jobs["update_envelopes_rows_per_s"])
        ours.append(sharded)
    ys = list(range(len(names)))
    ax.barh([y + 0.2 for y in ys], baselines, 0.4, label="plain UPDATE")
    ax.barh([y - 0.2 for y in ys], ours, 0.4, label="fieldcrypt job")
    ax.set_yticks(ys, names)
    ax.set_xlabel("rows per second (higher is better)")
    ax.legend(fontsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(img / "bench-jobs.png", dpi=110)
    plt.close(fig)
    add("![Column jobs against plain UPDATE](img/bench-jobs.png)")
    add("")

    # The server.
    t = server["targets"]
    add("## fieldcrypt-server against OpenBao Transit (open / decrypt)")
    add("")
    add(
        "bench/server_load.sh: oha on loopback, 32 connections; fieldcrypt-server over TLS 1.3 with "
        "its audit trail fdatasync'd before each answer, OpenBao's dev server (in memory, no TLS) "
        "without and with a file audit device; each saturated, then held at half that rate."
    )
    add("")
    add("| system | batch | saturating req/s | values/s | p99 at half rate (ms) |")
    add("| --- | --- | --- | --- | --- |")
    names = {"fc": "fieldcrypt-server", "bao": "OpenBao, no audit device", "baoA": "OpenBao, file audit device"}
    for key in ("fc1", "bao1", "baoA1", "fc100", "bao100", "baoA100"):
        r = t[key]
        add(f"| {names[key.rstrip('0123456789')]} | {r['batch']} | {fmt(r['saturating_req_per_s'])} | "
            f"{fmt(r['saturating_req_per_s'] * r['batch'])} | {r['half_rate_p99_ms']:.2f} |")
    add("")
    x1 = t["fc1"]["saturating_req_per_s"] / t["bao1"]["saturating_req_per_s"]
    xa1 = t["fc1"]["saturating_req_per_s"] / t["baoA1"]["saturating_req_per_s"]
    soak = server["soak"]
    add(
        f"Batch 1: {x1:.1f}x OpenBao without an audit device, {xa1:.1f}x with one (issue 16's target: "
        f"at least 5x, {verdict(x1 >= 5)}); p99 at half rate {t['fc1']['half_rate_p99_ms']:.2f} ms (target "
        f"under 5 ms, {verdict(t['fc1']['half_rate_p99_ms'] < 5)}). Memory over {soak['seconds']} s at "
        f"{fmt(soak['req_per_s'])} req/s: RSS {soak['rss_before_mib']:.1f} MiB before, "
        f"{soak['rss_min_mib']:.1f}-{soak['rss_max_mib']:.1f} MiB during."
    )
    add("")

    # Files and backups.
    mem, fl, bk = files["memory"], files["files"], files["backups"]
    add(f"## Files and backups ({files['mib']} MiB; backups of a {fmt(files['rows'])}-row table)")
    add("")
    add(
        "bench/files.sh: the stream in memory against raw AES-256-GCM over the same bytes; "
        "`fieldcrypt file` against age and gpg on the same file (best of 3, page cache warm); "
        "`fieldcrypt backup` against the dump tool it wraps, to a file."
    )
    add("")
    add(
        f"In memory: SealWriter {mem['seal_writer_gb_per_s']:.2f} GB/s and OpenReader "
        f"{mem['open_reader_gb_per_s']:.2f} GB/s, against raw AES-256-GCM {mem['raw_in_place_gb_per_s']:.2f} GB/s "
        f"in place ({mem['seal_writer_gb_per_s'] / mem['raw_in_place_gb_per_s']:.0%} and "
        f"{mem['open_reader_gb_per_s'] / mem['raw_in_place_gb_per_s']:.0%})."
    )
    add("")
    add("| tool | MB/s | peak RSS (MiB) |")
    add("| --- | --- | --- |")
    labels = [("fieldcrypt_seal", "fieldcrypt file seal"), ("fieldcrypt_open", "fieldcrypt file open"),
              ("age_encrypt", "age -r"), ("age_decrypt", "age -d"), ("gpg_encrypt", "gpg --symmetric (AES256)"),
              ("gpg_decrypt", "gpg --decrypt"), ("cp", "cp (the disk's own cost)")]
    for key, label in labels:
        add(f"| {label} | {fmt(fl[key]['mb_per_s'])} | {fl[key]['max_rss_mib']} |")
    add("")
    add(
        f"Backups: PostgreSQL `fieldcrypt backup` {bk['fieldcrypt_backup_postgres_s']:.2f} s against "
        f"`pg_dump -Fc` {bk['pg_dump_s']:.2f} s ({bk['fieldcrypt_backup_postgres_s'] / bk['pg_dump_s']:.2f}x); "
        f"MariaDB {bk['fieldcrypt_backup_mariadb_s']:.2f} s against `mariadb-dump` {bk['mariadb_dump_s']:.2f} s "
        f"({bk['fieldcrypt_backup_mariadb_s'] / bk['mariadb_dump_s']:.2f}x)."
    )
    add("")
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.barh([label for _, label in labels][::-1], [fl[key]["mb_per_s"] for key, _ in labels][::-1], color="#4c72b0")
    ax.set_xlabel("MB/s (higher is better)")
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(img / "bench-files.png", dpi=110)
    plt.close(fig)
    add("![Files: fieldcrypt, age and gpg](img/bench-files.png)")
    add("")

    add("## Before")
    add("")
    add(
        "Issue 18's starting figures, as recorded before the work it asked for (the README of "
        "2026-11-23 and the issue's own measurement), for comparison with the figures above:"
    )
    add("")
    for k, v in BEFORE.items():
        add(f"- {k}: {v}.")
    add("")
    add("docs/PERFORMANCE.md explains what changed and why.")
    markdown.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
