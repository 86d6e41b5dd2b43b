#!/usr/bin/env python3
"""Builds pricing/data/prices.json (llmtap's price-table schema 1) from LiteLLM-format price data.

Usage: pricing/tools/convert_prices.py [--sources DIR] [--overrides FILE] [--out FILE] [--check]

  --sources    directory with litellm-2025-09-01.json and litellm-subset-2026-07-24.json
               (default: ../shared/pricing-sources next to the repository)
  --overrides  hand-checked corrections and additions (default: pricing/data/overrides.json)
  --out        output (default: pricing/data/prices.json)
  --check      do not write; exit 1 if the output would change

Python 3 standard library only. All arithmetic uses decimal.Decimal parsed from the JSON text, so
1.25e-06 USD/token becomes exactly "1.25" USD per 1M tokens.
"""
import argparse
import json
import os
import re
import sys
from decimal import Decimal

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MILLION = Decimal(1000000)

# Source files, newest first: a model present in several takes the first one's prices.
SOURCES = [
    ("litellm-subset-2026-07-24.json", "2026-07-24",
     "LiteLLM model_prices_and_context_window.json subset (claude-, gpt-, gemini-, o3/o4 prefixes) from a "
     "third-party mirror; indicative; preferred for models released after 2025-09"),
    ("litellm-2025-09-01.json", "2025-09-01",
     "LiteLLM model_prices_and_context_window.json full copy as redistributed by tokencost; no 1-hour "
     "cache-write field"),
]

# Families llmtap prices (by model-name prefix) and the LiteLLM providers whose bare keys we read.
FAMILY_RE = re.compile(r"^(gpt-4o|gpt-4\.1|gpt-5|o1|o3|o4-mini|chatgpt-4o-latest|codex-mini-latest|"
                       r"claude-(3|4|sonnet|opus|haiku|fable|mythos)|gemini-(2\.5|3))")
PROVIDERS = {"openai": "openai", "anthropic": "anthropic", "vertex_ai-language-models": "google", "gemini": "google"}
MODES = {"chat", "responses"}
# Non-text models: audio, image, speech and realtime tokens are not in llmtap's usage buckets, so
# pricing them at text rates would be wrong. They stay unknown (no cost) until the buckets exist.
NON_TEXT_RE = re.compile(r"(audio|realtime|transcribe|tts|image|live|embedding|diarize)")

DATE_SUFFIX_RE = re.compile(r"^(.*?)(-20\d{2}-\d{2}-\d{2}|-20\d{6}|@20\d{6}|-(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01]))$")
BEDROCK_VERSION_RE = re.compile(r"^(.*)-v\d+:\d+$")

# LiteLLM field -> llmtap price field, for the base price set.
BASE_FIELDS = {
    "input_cost_per_token": "input",
    "cache_read_input_token_cost": "cached_input",
    "cache_creation_input_token_cost": "cache_write_5m",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
    "output_cost_per_token": "output",
    "output_cost_per_reasoning_token": "reasoning",
}
SERVICE_SUFFIXES = {"_batches": "batch", "_flex": "flex", "_priority": "priority"}
TIER_RE = re.compile(r"^(.*)_above_(\d+)k_tokens(_batches|_flex|_priority)?$")


def die(msg):
    sys.stderr.write("convert_prices: " + msg + "\n")
    sys.exit(2)


def per_million(value, where):
    """USD per token (Decimal) -> USD per 1M tokens as a plain decimal string with <= 6 decimals."""
    d = value * MILLION
    if d < 0:
        die(f"{where}: negative price {value}")
    q = d.normalize()
    if q.as_tuple().exponent < -6:
        die(f"{where}: {value} USD/token is finer than 1 picodollar per token")
    s = format(q, "f")
    return s


def strip_date(name):
    m = DATE_SUFFIX_RE.match(name)
    return m.group(1) if m else None


def price_record(key, v, provider):
    """LiteLLM entry -> (prices, context_tiers, service_tiers) with llmtap field names, as Decimals."""
    base, tiers, services = {}, {}, {}
    for field, value in v.items():
        if not isinstance(value, Decimal):
            continue
        if field in BASE_FIELDS:
            base[BASE_FIELDS[field]] = value
            continue
        m = TIER_RE.match(field)
        if m and m.group(1) in BASE_FIELDS:
            threshold = int(m.group(2)) * 1000
            svc = SERVICE_SUFFIXES.get(m.group(3) or "")
            tiers.setdefault((svc, threshold), {})[BASE_FIELDS[m.group(1)]] = value
            continue
        for suffix, svc in SERVICE_SUFFIXES.items():
            if field.endswith(suffix) and field[: -len(suffix)] in BASE_FIELDS:
                services.setdefault(svc, {})[BASE_FIELDS[field[: -len(suffix)]]] = value
    # The 1-hour cache tier is written "..._above_1hr_above_200k_tokens": TIER_RE catches it with
    # group(1) "cache_creation_input_token_cost_above_1hr", already in BASE_FIELDS.
    notes = []
    if provider == "google":
        # Gemini bills explicit-cache storage per hour, not a per-token write surcharge; LiteLLM's
        # cache_creation numbers for Gemini are that storage rate. llmtap never sees Gemini cache writes.
        base.pop("cache_write_5m", None)
        base.pop("cache_write_1h", None)
        for t in tiers.values():
            t.pop("cache_write_5m", None)
            t.pop("cache_write_1h", None)
    if provider == "anthropic":
        # Anthropic's documented multipliers on the base input price: read x0.1, 5-minute write
        # x1.25, 1-hour write x2. Fill only what the source lacks, and say so.
        derived = []
        for label, ps in [("", base)] + [(f" above {k[1]} prompt tokens", t) for k, t in tiers.items()]:
            if "input" not in ps:
                continue
            for f, mult in (("cached_input", Decimal("0.1")), ("cache_write_5m", Decimal("1.25")),
                            ("cache_write_1h", Decimal(2))):
                if f not in ps:
                    ps[f] = ps["input"] * mult
                    derived.append(f + label)
        if derived:
            notes.append("derived from Anthropic's cache multipliers (read x0.1, 5m write x1.25, 1h write x2): "
                         + ", ".join(derived))
    if "input" not in base or "output" not in base:
        return None
    if base.get("reasoning") == base.get("output"):
        base.pop("reasoning", None)  # reasoning defaults to output; keep the table small
    context_tiers = []
    service_tiers = {}
    for (svc, threshold), t in sorted(tiers.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        if t.get("reasoning") is not None and t.get("reasoning") == t.get("output"):
            t.pop("reasoning")
        tier = {"above_prompt_tokens": threshold, "prices": t}
        if svc is None:
            context_tiers.append(tier)
        else:
            service_tiers.setdefault(svc, {"prices": {}})
            service_tiers[svc].setdefault("context_tiers", []).append(tier)
    for svc, ps in services.items():
        service_tiers.setdefault(svc, {"prices": {}})["prices"] = ps
    return {"prices": base, "context_tiers": context_tiers, "service_tiers": service_tiers, "notes": notes}


def render_prices(ps, where):
    order = ["input", "cached_input", "cache_write_5m", "cache_write_1h", "output", "reasoning", "per_request"]
    out = {}
    for f in order:
        if f in ps:
            out[f] = ps[f] if isinstance(ps[f], str) else per_million(ps[f], f"{where}.{f}")
    return out


def render_record(rec, where):
    out = {"prices": render_prices(rec["prices"], where + ".prices")}
    if rec["context_tiers"]:
        out["context_tiers"] = [{"above_prompt_tokens": t["above_prompt_tokens"],
                                 "prices": render_prices(t["prices"], where + ".context_tiers")}
                                for t in rec["context_tiers"]]
    if rec["service_tiers"]:
        st = {}
        for svc in sorted(rec["service_tiers"]):
            s = rec["service_tiers"][svc]
            o = {"prices": render_prices(s["prices"], f"{where}.service_tiers.{svc}")}
            if s.get("context_tiers"):
                o["context_tiers"] = [{"above_prompt_tokens": t["above_prompt_tokens"],
                                       "prices": render_prices(t["prices"], f"{where}.service_tiers.{svc}")}
                                      for t in s["context_tiers"]]
            st[svc] = o
        out["service_tiers"] = st
    return out


def load_sources(src_dir):
    data = []
    for fname, date, note in SOURCES:
        path = os.path.join(src_dir, fname)
        try:
            with open(path) as f:
                data.append((fname, date, note, json.load(f, parse_float=Decimal, parse_int=Decimal)))
        except OSError as e:
            die(f"cannot read {path}: {e}")
    return data


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", default=os.path.join(os.path.dirname(REPO), "shared", "pricing-sources"))
    ap.add_argument("--overrides", default=os.path.join(REPO, "pricing", "data", "overrides.json"))
    ap.add_argument("--out", default=os.path.join(REPO, "pricing", "data", "prices.json"))
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()

    with open(args.overrides) as f:
        ov = json.load(f)
    if args.check and not all(os.path.exists(os.path.join(args.sources, f)) for f, _, _ in SOURCES):
        print(f"sources not found in {args.sources}: nothing to check")
        return 77  # ctest SKIP_RETURN_CODE
    sources = load_sources(args.sources)
    exclude = {k.lower() for k in ov.get("exclude", {})}

    # 1. Pick every key of the families, newest source first.
    picked = {}  # key -> (source file, provider, record)
    disagreements = []
    for fname, _, _, data in sources:
        for key, v in data.items():
            k = key.lower()
            if not isinstance(v, dict) or not FAMILY_RE.match(k) or k in exclude or NON_TEXT_RE.search(k):
                continue
            provider = PROVIDERS.get(v.get("litellm_provider"))
            if provider is None or v.get("mode") not in MODES:
                continue
            rec = price_record(k, v, provider)
            if rec is None:
                continue
            if k in picked:
                old = render_record(rec, k)["prices"]
                new = render_record(picked[k][2], k)["prices"]
                diff = [f for f in ("input", "cached_input", "output") if old.get(f) != new.get(f)]
                if diff:
                    disagreements.append(f"{k}: {', '.join(f'{f} {picked[k][0]}={new.get(f)} vs {fname}={old.get(f)}' for f in diff)}")
                continue
            picked[k] = (fname, provider, rec)

    # 2. Group dated snapshots (and Bedrock "-vN:M" spellings) under their base name when the prices
    #    are identical; a snapshot with different prices stays its own entry.
    def same(a, b):
        # Standard and long-context prices must agree; service tiers are often missing on one
        # spelling in the sources and are merged below.
        ra, rb = render_record(picked[a][2], a), render_record(picked[b][2], b)
        return ra["prices"] == rb["prices"] and ra.get("context_tiers") == rb.get("context_tiers")

    parent = {}
    for k in picked:
        m = BEDROCK_VERSION_RE.match(k)
        base = m.group(1) if m else strip_date(k)
        if base and base in picked and same(base, k):
            parent[k] = base
    for k, target in ov.get("merge_into", {}).items():
        k, target = k.lower(), target.lower()
        if k not in picked or target not in picked:
            die(f"overrides merge_into: {k} -> {target}: not both in the sources")
        if not same(k, target):
            die(f"overrides merge_into: {k} and {target} have different prices")
        parent[k] = target

    def root(k):
        while k in parent:
            k = parent[k]
        return k

    groups = {}
    for k in sorted(picked):
        groups.setdefault(root(k), []).append(k)

    entries = []
    for eid, members in sorted(groups.items()):
        fname, provider, rec = picked[eid]
        aliases = [m for m in members if m != eid]
        if provider == "anthropic":
            # Vertex AI spells snapshots "claude-sonnet-4@20250514".
            for name in [eid] + aliases:
                m = re.match(r"^(.*)-(20\d{6})$", name)
                if m:
                    aliases.append(f"{m.group(1)}@{m.group(2)}")
        aliases += ov.get("aliases", {}).get(eid, [])
        e = {"id": eid, "provider": provider}
        uniq = sorted(set(a for a in aliases if a != eid))
        if uniq:
            e["aliases"] = uniq
        if eid in ov.get("regex", {}):
            e.update(ov["regex"][eid])
        rendered = render_record(rec, eid)
        for m in members:  # service tiers a snapshot spelling has and the base lacks
            for svc, tier in render_record(picked[m][2], m).get("service_tiers", {}).items():
                rendered.setdefault("service_tiers", {}).setdefault(svc, tier)
        e.update(rendered)
        srcs = sorted({picked[m][0] for m in members})
        e["source"] = "; ".join(f"{s}: {', '.join(m for m in members if picked[m][0] == s)}" for s in srcs)
        notes = list(rec["notes"]) + ([ov["notes"][eid]] if eid in ov.get("notes", {}) else [])
        if notes:
            e["note"] = "; ".join(notes)
        entries.append(e)

    # 3. Hand-checked entries the sources lack or get wrong (each carries its own source/note).
    ids = {e["id"] for e in entries}
    for e in ov.get("models", []):
        if e["id"] in ids:
            die(f"overrides models: {e['id']} already comes from the sources; use corrections")
        entries.append(e)
    for eid, fix in ov.get("corrections", {}).items():
        target = next((e for e in entries if e["id"] == eid), None)
        if target is None:
            die(f"overrides corrections: no entry {eid}")
        for f, val in fix.get("prices", {}).items():
            target["prices"][f] = val
        target["note"] = "; ".join(filter(None, [target.get("note"), fix["note"]]))
    entries.sort(key=lambda e: (e["provider"], e["id"]))

    # Sanity check of the main families against the vendors' documented ratios; a violation must be
    # fixed in overrides.json (corrections) or acknowledged there (ratio_exceptions).
    problems = []
    for e in entries:
        p = e["prices"]
        if e["id"] in ov.get("ratio_exceptions", {}):
            continue
        inp = Decimal(p["input"])
        if e["provider"] == "anthropic":
            want = {"cached_input": inp * Decimal("0.1"), "cache_write_5m": inp * Decimal("1.25"),
                    "cache_write_1h": inp * 2}
            for f, w in want.items():
                if Decimal(p[f]) != w:
                    problems.append(f"{e['id']}: {f} {p[f]} but Anthropic's multiplier gives {format(w.normalize(), 'f')}")
        if Decimal(p.get("cached_input", p["input"])) > inp:
            problems.append(f"{e['id']}: cached_input above input")
    if problems:
        die("price sanity check failed:\n  " + "\n  ".join(problems))

    # 4. Names the current SDKs know that the table cannot price: listed, never invented.
    known = {}
    for e in entries:
        for n in [e["id"]] + e.get("aliases", []):
            known[n.lower()] = e["id"]
    regexes = [(re.compile(e["regex"] + r"\Z", re.I), e["id"]) for e in entries if e.get("regex")]
    missing = []
    for sdk, names in ov.get("sdk_models", {}).items():
        if sdk.startswith("_"):
            continue
        for n in names:
            n = n.lower()
            if n in known or any(r.match(n) for r, _ in regexes):
                continue
            base = strip_date(n)
            if base and base in known:
                continue
            missing.append(n)
    notes = list(ov.get("table_notes", []))
    if missing:
        notes.append("No price in the sources (so no cost is reported) for these SDK model names: "
                      + ", ".join(sorted(set(missing))) + ".")
    for d in disagreements:
        notes.append("Sources disagree, newer source used: " + d)

    table = {
        "schema_version": 1,
        "table_version": ov["table_version"],
        "table_date": ov["table_date"],
        "sources": [{"name": f, "date": d, "note": n} for f, d, n, _ in sources]
        + ov.get("extra_sources", []),
        "notes": notes,
        "models": entries,
    }
    text = json.dumps(table, indent=1, ensure_ascii=True) + "\n"
    if args.check:
        try:
            with open(args.out) as f:
                same_text = f.read() == text
        except OSError:
            same_text = False
        print("up to date" if same_text else f"{args.out} is stale: rerun {sys.argv[0]}")
        return 0 if same_text else 1
    with open(args.out, "w") as f:
        f.write(text)
    print(f"wrote {args.out}: {len(entries)} entries, {sum(len(e.get('aliases', [])) for e in entries)} aliases, "
          f"{len(missing)} SDK names without a price")
    return 0


if __name__ == "__main__":
    sys.exit(main())
