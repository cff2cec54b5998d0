"""Tax arithmetic the forms' cross-field rules call (facts in ../shared/forms.md). Pure integer functions."""
from __future__ import annotations

from typing import Callable


def kyuyo_shotoku(payment: int, nenbun: int) -> int:
    """給与所得控除後の金額 for 支払金額 `payment` in 年分 `nenbun` (Western year): 所得税法別表第五 and its formulas."""
    if nenbun >= 2025:
        if payment < 651_000:
            return 0
        if payment < 1_900_000:
            return payment - 650_000
    else:
        if payment < 551_000:
            return 0
        if payment < 1_619_000:
            return payment - 550_000
        for upper, value in ((1_620_000, 1_069_000), (1_622_000, 1_070_000), (1_624_000, 1_072_000),
                             (1_628_000, 1_074_000)):
            if payment < upper:
                return value
        if payment < 1_800_000:
            return (payment // 4000 * 4000) * 6 // 10 + 100_000
    rounded = payment // 4000 * 4000
    if payment < 3_600_000:
        return rounded * 7 // 10 - 80_000
    if payment < 6_600_000:
        return rounded * 8 // 10 - 440_000
    if payment < 8_500_000:
        return payment * 9 // 10 - 1_100_000
    return payment - 1_950_000


def income_adjustment_cap(payment: int) -> int:
    """The most 所得金額調整控除 can take off: (min(A, 1,000万) − 850万) × 10%, 0 at or under 850万."""
    return max(0, (min(payment, 10_000_000) - 8_500_000) // 10)


# 均等割 standard annual rates (市町村民税): (upper bound of 資本金等の額, rate with ≤50 people, rate with >50).
KINTOWARI_BRACKETS = (
    (10_000_000, 50_000, 120_000),
    (100_000_000, 130_000, 150_000),
    (1_000_000_000, 160_000, 400_000),
    (5_000_000_000, 410_000, 1_750_000),
    (None, 410_000, 3_000_000),
)


def kintowari_annual(capital: int, employees_in_city: int) -> int:
    for upper, small, large in KINTOWARI_BRACKETS:
        if upper is None or capital <= upper:
            return large if employees_in_city > 50 else small
    raise AssertionError("unreachable")


def kintowari(capital: int, employees_in_city: int, months: int) -> int:
    """均等割額: the annual rate × months/12, 100円未満切捨 (50,000 × 4/12 → 16,600)."""
    return floor_to(kintowari_annual(capital, employees_in_city) * months // 12, 100)


def monthly_share(annual: int, months: int) -> int:
    """均等割額 from a written 年額: 年額 × 月数/12, 100円未満切捨 (the 「円×月/12」 line of 第20号様式)."""
    return floor_to(annual * months // 12, 100)


def floor_to(amount: int, unit: int) -> int:
    """Round toward zero to a multiple of `unit` (課税標準 1,000円未満切捨, 税額 100円未満切捨)."""
    return amount - amount % unit if amount >= 0 else -((-amount) - (-amount) % unit)


def tax_at_rate(base: int, rate_basis_points: int) -> int:
    """Tax on `base` at a rate in basis points (6.0 % → 600), 100円未満切捨."""
    return floor_to(base * rate_basis_points // 10_000, 100)


def apportion(base: int, part: int, whole: int) -> int:
    """分割法人: 課税標準 × 市内の従業者数 / 従業者数の合計数, 1,000円未満切捨 (the whole base when `whole` is 0)."""
    return floor_to(base * part // whole, 1000) if whole > 0 else base


def yotei_shinkoku(previous_tax: int, previous_months: int) -> int:
    """予定申告税額: 前事業年度の法人税割額 × 6 / 前事業年度の月数, 100円未満切捨."""
    return floor_to(previous_tax * 6 // previous_months, 100) if previous_months else 0


def remainder(amount: int, unit: int) -> int:
    """`amount` mod `unit`, e.g. `gensen_choshu % 100 = 0` written `remainder(gensen, 100)`."""
    return amount % unit


def smaller(a: int, b: int) -> int:
    return min(a, b)


def larger(a: int, b: int) -> int:
    return max(a, b)


def income_tax(taxable: int) -> int:
    """算出所得税額 by the quick table (所得税の速算表) on a 課税所得 already rounded down to 1,000円."""
    for upper, rate, minus in ((1_949_000, 5, 0), (3_299_000, 10, 97_500), (6_949_000, 20, 427_500),
                               (8_999_000, 23, 636_000), (17_999_000, 33, 1_536_000), (39_999_000, 40, 2_796_000)):
        if taxable <= upper:
            return taxable * rate // 100 - minus
    return taxable * 45 // 100 - 4_796_000


def nencho_zeigaku(income_after_deduction: int, deductions: int, housing_loan_credit: int) -> int:
    """年調年税額: (算出所得税額 − 住宅借入金等特別控除の額) × 102.1 % (復興特別所得税込み), 100円未満切捨;
    算出所得税額 on (給与所得控除後の金額 − 所得控除の額の合計額), 1,000円未満切捨."""
    taxable = floor_to(max(0, income_after_deduction - deductions), 1000)
    return floor_to(max(0, income_tax(taxable) - housing_loan_credit) * 1021 // 1000, 100)


# 特別徴収 runs June to May (地方税法321条の5): 年税額 is split into 12 月割額, 100円未満 cut, and the cut
# remainder is taken in June (the first month).
TOKUCHO_FIRST_MONTH = 6


def tokucho_order(month: int) -> int:
    """Position of a month in the 特別徴収 year: 6月 → 0, 7月 → 1, …, 翌5月 → 11 (a month outside 1–12 → 99)."""
    if not 1 <= month <= 12:
        return 99
    return (month - TOKUCHO_FIRST_MONTH) % 12


def tokucho_monthly(annual: int) -> int:
    """7月分以降の月割額: 年税額 ÷ 12, 100円未満切捨 (年税額が1,200円未満なら June takes it all: 0)."""
    return floor_to(annual // 12, 100)


def tokucho_collected(annual: int, first_month: int, last_month: int) -> int:
    """What the 月割額 of `annual` add up to from `first_month`分 to `last_month`分 (in the June→May order):
    June's share carries the 100円未満 remainder, 年税額 − 11 × 月割額."""
    first, last = tokucho_order(first_month), tokucho_order(last_month)
    if first > last or last > 11:
        return -1  # months out of order: no sum to compare with
    monthly = tokucho_monthly(annual)
    total = monthly * (last - first + 1)
    if first == 0:
        total += annual - 12 * monthly
    return total


def month_of(day: int) -> int:
    """The month of a date the rules see as YYYYMMDD (20250930 → 9)."""
    return day // 100 % 100


FUNCTIONS: dict[str, Callable[..., int]] = {
    "tokucho_order": tokucho_order,
    "tokucho_monthly": tokucho_monthly,
    "tokucho_collected": tokucho_collected,
    "month_of": month_of,
    "nencho_zeigaku": nencho_zeigaku,
    "kyuyo_shotoku": kyuyo_shotoku,
    "income_adjustment_cap": income_adjustment_cap,
    "kintowari": kintowari,
    "monthly_share": monthly_share,
    "floor_to": floor_to,
    "tax_at_rate": tax_at_rate,
    "apportion": apportion,
    "yotei_shinkoku": yotei_shinkoku,
    "remainder": remainder,
    "min": smaller,
    "max": larger,
}
