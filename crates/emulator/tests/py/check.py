"""Independent check of the virtual register with pyshtrih 2.0.6 (a third-party client).

Usage: check.py PORT

Drives the register through pyshtrih's own high-level calls: connect, full status, FN
status, open shift, a three-item sale (0x8D, 0x80 x3, 0x85), cash in, X report, Z report.
Every answer must parse in pyshtrih. A step that fails (pyshtrih cannot parse the answer,
the register refuses, or a value is wrong) is recorded under "problems" and the run goes
on where it can; the findings are printed as one JSON line at the end for the Rust test.
"""

import json
import sys
import traceback

import pyshtrih

# Items: (name, quantity in thousandths, price in kopecks), as 0x80 takes them (§7.6.6).
ITEMS = [
    (u"Молоко 3,2%", 2000, 7000),  # 2 x 70.00 = 140.00
    (u"Хлеб ржаной", 1500, 3000),  # 1.5 x 30.00 = 45.00
    (u"Спички", 1000, 1550),  # 1 x 15.50 = 15.50
]
TOTAL = 20050
CASH = 25000
CASH_IN = 10000


class Run(object):
    def __init__(self):
        self.out = {}
        self.problems = []

    def step(self, name, func):
        """Runs one step; records and swallows its failure."""
        try:
            return func()
        except Exception as exc:  # noqa: BLE001 - every failure is a finding
            last = traceback.extract_tb(exc.__traceback__)[-1]
            self.problems.append({
                "step": name,
                "error": u"{}: {}".format(type(exc).__name__, exc),
                "where": u"{}:{}".format(last.filename.rsplit("/", 1)[-1], last.lineno),
            })
            return None

    def expect(self, name, ok, detail):
        if not ok:
            self.problems.append({"step": name, "error": u"unexpected: {}".format(detail)})


def fn_status(device):
    r = device.fs_state()
    return {
        "last_fd": r[u"Номер последнего ФД"],
        "shift_open": r[u"Состояние смены"] == u"смена открыта",
        "serial": bytes(r[u"Номер ФН"]).decode("ascii").strip("\x00 "),
        "date_time": r[u"Дата и время"].isoformat(),
    }


def full_status(device):
    r = device.full_state()
    return {
        "mode": r[u"Режим ФР"].num,
        "submode": r[u"Подрежим ФР"].num,
        "through_number": r[u"Сквозной номер текущего документа"],
        "date": r[u"Дата"].isoformat(),
        "time": r[u"Время"].isoformat(),
        "last_closed_shift": r[u"Номер последней закрытой смены"],
    }


def short_status(device):
    r = device.state()
    ops = r[u"Количество операций в чеке"]
    return {
        "mode": r[u"Режим ФР"].num,
        "submode": r[u"Подрежим ФР"].num,
        # pyshtrih joins offsets 12 and 7 with 12 as the low byte; the captured real frame in
        # the protocol notes (§6.1: one item, offset 7 = 01, offset 12 = 00) shows offset 7 is
        # the low byte. Undo pyshtrih's swap to get the register's count.
        "operations": ((ops & 0xFF) << 8) | (ops >> 8),
        "operations_as_pyshtrih_reads": ops,
    }


def main():
    device = pyshtrih.ShtrihM01F(port=sys.argv[1], baudrate=115200, timeout=5)
    run = Run()
    out = run.out
    run.step("connect (ENQ, 0xFC)", device.connect)
    if not device.connected:
        print(json.dumps({"out": out, "problems": run.problems}, ensure_ascii=False))
        return
    out["name"] = device.name
    out["model"] = device.dev_info[u"Модель устройства"]

    before = run.step("full status 0x11", lambda: full_status(device))
    out["full_status_before"] = before
    out["short_status_before"] = s0 = run.step("short status 0x10", lambda: short_status(device))
    if s0:
        run.expect("short status 0x10", s0["mode"] == 4, s0)
    out["fn_before"] = fn0 = run.step("FN status FF01", lambda: fn_status(device))
    if fn0:
        run.expect("FN status FF01", not fn0["shift_open"], fn0)

    run.step("open shift 0xE0", device.open_shift)
    run.step("wait printing", device.wait_printing)
    out["fn_after_shift"] = fn1 = run.step("FN status after shift", lambda: fn_status(device))
    if fn0 and fn1:
        run.expect("open shift 0xE0", fn1["shift_open"] and fn1["last_fd"] == fn0["last_fd"] + 1, (fn0, fn1))

    run.step("open receipt 0x8D", lambda: device.open_check(0))
    for n, item in enumerate(ITEMS):
        run.step("sale 0x80 #{}".format(n + 1), lambda item=item: device.sale(item, department_num=1, tax1=4))
    s1 = run.step("short status in receipt", lambda: short_status(device))
    if s1:
        out["operations_in_receipt"] = s1["operations"]
        run.expect("short status in receipt", s1["mode"] == 8, s1)
    closed = run.step("close receipt 0x85", lambda: device.close_check(cash=CASH))
    if closed is not None:
        out["change"] = closed[u"Сдача"]
        run.expect("close receipt 0x85", out["change"] == CASH - TOTAL, out["change"])
    run.step("wait printing", device.wait_printing)
    out["fn_after_receipt"] = fn2 = run.step("FN status after receipt", lambda: fn_status(device))
    if fn1 and fn2:
        run.expect("receipt FD", fn2["last_fd"] == fn1["last_fd"] + 1, (fn1, fn2))

    cash_in = run.step("cash in 0x50", lambda: device.income(CASH_IN))
    if cash_in is not None:
        out["cash_in_through_number"] = cash_in[u"Сквозной номер документа"]
    reg = run.step("operation register 0x1B", lambda: device.request_operational_register(153))
    if reg is not None:
        out["cash_in_register_153"] = reg[u"Содержимое регистра"]

    run.step("X report 0x40", device.x_report)
    run.step("wait printing", device.wait_printing)
    fn3 = run.step("FN status after X", lambda: fn_status(device))
    if fn2 and fn3:
        run.expect("X report 0x40", fn3["last_fd"] == fn2["last_fd"], "an X report is not a fiscal document")

    run.step("Z report 0x41", device.z_report)
    run.step("wait printing", device.wait_printing)
    out["fn_after_z"] = fn4 = run.step("FN status after Z", lambda: fn_status(device))
    if fn3 and fn4:
        run.expect("Z report 0x41", fn4["last_fd"] == fn3["last_fd"] + 1 and not fn4["shift_open"], (fn3, fn4))
    out["short_status_after"] = s2 = run.step("short status after Z", lambda: short_status(device))
    if s2:
        run.expect("short status after Z", s2["mode"] == 4, s2)
    run.step("full status after Z", lambda: full_status(device))
    device.disconnect()
    print(json.dumps({"out": out, "problems": run.problems}, ensure_ascii=False))


if __name__ == "__main__":
    main()
