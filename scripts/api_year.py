#!/usr/bin/env python3
"""A unit's whole year driven through Jixiao's JSON API, against a running server: every indicator's
year-end actual recorded (its target, as if met), each report submitted and approved, each project's year
executed in full, then the year's self-evaluation (绩效自评) printed — the same JSON as
`manage.py selfeval_report --format json`.

    export JIXIAO_API_TOKEN=jx_…            # a read-write token of the unit's administrator (单位管理员)
    python scripts/api_year.py --url http://127.0.0.1:8000 --unit DEMO-SB --year 2026 > 自评.json

With --lead-token (a project lead's read-write token) the lead records and submits what they lead, and the
administrator approves, as on the pages. Every write carries an Idempotency-Key made of what it does: a run
cut short and started again within a day repeats nothing. Progress goes to standard error; the script needs
only Python's standard library.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal

GRADE_ACHIEVED = "达成年度指标"


class ApiError(Exception):
    def __init__(self, status: int, body: dict, what: str):
        self.status, self.body = status, body
        errors = body.get("errors") or {}
        super().__init__(f"{what}：HTTP {status} {body.get('detail', '')}"
                         + (f" {json.dumps(errors, ensure_ascii=False)}" if errors else ""))


class Client:
    """JSON over HTTP with a bearer token."""

    def __init__(self, base: str, token: str):
        self.base, self.token = base.rstrip("/") + "/api/v1", token

    def call(self, method: str, path: str, body: dict | None = None, key: str | None = None) -> tuple[int, dict, dict]:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        if key:
            headers["Idempotency-Key"] = key
        url = path if path.startswith("http") else self.base + path
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"{}"), dict(response.headers)
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = {"detail": raw.decode(errors="replace")[:200]}
            return error.code, parsed, dict(error.headers)

    def get(self, path: str, what: str) -> dict:
        status, body, _ = self.call("GET", path)
        if status != 200:
            raise ApiError(status, body, what)
        return body

    def post(self, path: str, body: dict | None, key: str, what: str) -> tuple[int, dict]:
        status, answer, _ = self.call("POST", path, body, key)
        if status not in (200, 201):
            raise ApiError(status, answer, what)
        return status, answer


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def all_tables(client: Client, *, unit: int, year: int) -> list[dict]:
    query = urllib.parse.urlencode({"year": year, "unit": unit, "page_size": 200})
    page = client.get(f"/tables/?{query}", "读取绩效目标表")
    tables = list(page["results"])
    while page["next"]:
        page = client.get(page["next"], "读取绩效目标表")
        tables += page["results"]
    return tables


def year_end_entry(indicator: dict) -> dict | None:
    """What the year achieved, as if every target was met; None when there is nothing to enter."""
    if indicator["not_applicable"]:
        return None
    mode = indicator["entry_mode"]
    if mode == "met":
        return {"indicator": indicator["id"], "met": True}
    if mode == "grade":
        return {"indicator": indicator["id"], "grade": GRADE_ACHIEVED, "points": indicator["weight"]}
    if indicator["value"] is None:
        return None  # a target without a number (无法识别): left for a person
    return {"indicator": indicator["id"], "value": indicator["value"]}


def record_and_submit(client: Client, table: dict, detail: dict, *, as_of: str, tag: str) -> dict | None:
    entries = [e for e in (year_end_entry(i) for i in detail["indicators"]) if e is not None]
    skipped = [i["name"] for i in detail["indicators"] if not i["not_applicable"] and year_end_entry(i) is None]
    for name in skipped:
        say(f"    跳过“{name}”：指标值没有数值，请在填报页面填写")
    if not entries:
        return None
    status, report = client.post(f"/tables/{table['id']}/reports/", {"as_of": as_of, "entries": entries},
                                 f"{tag}:record", "填报实际完成值")
    say(f"    已填报 {report['saved']} 项（截至 {as_of}，填报 #{report['id']}，{report['status']}）"
        if status == 201 else f"    实际完成值没有变化（填报 #{report['id']}，{report['status']}）")
    if report["status"] == "draft":
        _, report = client.post(f"/reports/{report['id']}/submit/", None, f"{tag}:submit", "提交审核")
        say(f"    已提交审核（填报 #{report['id']}）")
    return report


def execute_in_full(client: Client, detail: dict, *, as_of: str, tag: str) -> None:
    """The project's whole 全年预算数 executed by the year's end, by source when the sources add up to it."""
    funds = detail["funds"]
    body = {"as_of": as_of, "executed": funds["budget"]}
    split = {s["source"]: s["budget"] if s["budget"] is not None else s["initial"] for s in funds["sources"]}
    if all(v is not None for v in split.values()) and \
            sum(Decimal(v) for v in split.values()) == Decimal(funds["budget"]):
        body.update({f"executed_{source}": value for source, value in split.items()})
    status, saved = client.post(f"/projects/{detail['project']['id']}/execution/", body, f"{tag}:execution",
                                "登记预算执行")
    say(f"    {saved['detail']}")


def selfeval(client: Client, *, unit: int, year: int, wait: float, poll: float) -> dict:
    """The self-evaluation, once the server has scored what was just recorded (409 评分更新中 until then)."""
    deadline = time.monotonic() + wait
    while True:
        status, body, headers = client.call("GET", f"/units/{unit}/selfeval/{year}/")
        if status == 200:
            return body
        if status != 409 or time.monotonic() > deadline:
            raise ApiError(status, body, "读取绩效自评")
        pause = min(float(headers.get("Retry-After") or poll), poll, max(deadline - time.monotonic(), 0.1))
        say(f"  {body.get('detail', '评分更新中')}（{pause:.0f} 秒后再试）")
        time.sleep(pause)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="通过接口完成一个单位一个年度的填报、审核、预算执行，并输出绩效自评 JSON。")
    parser.add_argument("--url", default=os.environ.get("JIXIAO_URL", "http://127.0.0.1:8000"), help="网站地址")
    parser.add_argument("--token", default=os.environ.get("JIXIAO_API_TOKEN"),
                        help="单位管理员的读写令牌（默认取环境变量 JIXIAO_API_TOKEN）")
    parser.add_argument("--lead-token", default=os.environ.get("JIXIAO_LEAD_TOKEN"),
                        help="项目负责人的读写令牌（可选：由其填报和提交所负责的项目）")
    parser.add_argument("--unit", required=True, help="预算单位编码，如 DEMO-SB")
    parser.add_argument("--year", required=True, type=int, help="年度，如 2026")
    parser.add_argument("--as-of", help="截至日期（默认该年 12 月 31 日）")
    parser.add_argument("--wait", type=float, default=300, help="等待评分完成的最长秒数（默认 300）")
    parser.add_argument("--poll", type=float, default=10, help="评分更新中时每次等待的秒数（默认 10）")
    parser.add_argument("--out", default="-", help="绩效自评 JSON 的输出文件（默认标准输出）")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("请用 --token 或环境变量 JIXIAO_API_TOKEN 提供单位管理员的读写令牌。")
    as_of = args.as_of or f"{args.year}-12-31"
    admin = Client(args.url, args.token)
    lead = Client(args.url, args.lead_token) if args.lead_token else None
    try:
        units = {u["code"]: u for u in admin.get("/units/", "读取预算单位")}
        if args.unit not in units:
            say(f"找不到预算单位“{args.unit}”，或该令牌无权查看（可查看：{'、'.join(units) or '无'}）。")
            return 2
        unit = units[args.unit]
        tables = all_tables(admin, unit=unit["id"], year=args.year)
        say(f"{unit['name']} {args.year} 年度：{len(tables)} 张绩效目标表")
        for table in tables:
            detail = admin.get(f"/tables/{table['id']}/", "读取绩效目标表")
            say(f"  {detail['project']['name'] if detail['project'] else '部门整体绩效目标表'}")
            if detail["year_closed"]:
                say("    该年度已关账，跳过")
                continue
            tag = f"api-year:{args.year}:{table['id']}:{as_of}"
            recorder = lead if lead is not None and detail["project"] is not None else admin
            try:
                report = record_and_submit(recorder, table, detail, as_of=as_of, tag=tag)
            except ApiError as error:
                if recorder is admin or error.status not in (403, 404):
                    raise
                say("    项目负责人无权填报该项目，改由单位管理员填报")
                report = record_and_submit(admin, table, detail, as_of=as_of, tag=tag)
            if report is not None and report["status"] == "submitted":
                admin.post(f"/reports/{report['id']}/approve/", None, f"{tag}:approve", "审核通过")
                say(f"    已审核通过（填报 #{report['id']}）")
            if detail["project"] is not None:
                execute_in_full(admin, detail, as_of=as_of, tag=tag)
        evaluation = selfeval(admin, unit=unit["id"], year=args.year, wait=args.wait, poll=args.poll)
    except ApiError as error:
        say(f"失败：{error}")
        return 1
    except urllib.error.URLError as error:
        say(f"无法连接 {args.url}：{error.reason}")
        return 1
    text = json.dumps(evaluation, ensure_ascii=False, indent=2) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
    totals = [e["total"] for e in evaluation["projects"]] + ([evaluation["unit_table"]["total"]]
                                                             if evaluation["unit_table"] else [])
    say(f"完成：绩效自评 {len(totals)} 张，总分 {'、'.join(t or '—' for t in totals)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
