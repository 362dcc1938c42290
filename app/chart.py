"""The standard chart of accounts (小企业会计准则, 2011 会计科目表) and quick-record categories.

Codes and Chinese names are the standard's. Sub-accounts with six digits are the usual 明细科目
small businesses keep (WeChat/Alipay balances, VAT sub-accounts, the expense lines that tax
deduction caps are computed from).
"""

from __future__ import annotations

from typing import NamedTuple


class StdAccount(NamedTuple):
    code: str
    name: str
    name_en: str
    type: str  # asset | liability | equity | cost | revenue | expense


_DEBIT_TYPES = {"asset", "cost", "expense"}
# Contra accounts carried on the opposite side of their type.
_CONTRA = {"1602", "1702"}

STANDARD_ACCOUNTS: list[StdAccount] = [
    StdAccount("1001", "库存现金", "Cash on hand", "asset"),
    StdAccount("1002", "银行存款", "Bank deposits", "asset"),
    StdAccount("1012", "其他货币资金", "Other monetary funds", "asset"),
    StdAccount("101201", "微信零钱/商户号", "WeChat Pay balance", "asset"),
    StdAccount("101202", "支付宝", "Alipay balance", "asset"),
    StdAccount("1101", "短期投资", "Short-term investments", "asset"),
    StdAccount("1121", "应收票据", "Notes receivable", "asset"),
    StdAccount("1122", "应收账款", "Accounts receivable", "asset"),
    StdAccount("1123", "预付账款", "Prepayments", "asset"),
    StdAccount("1131", "应收股利", "Dividends receivable", "asset"),
    StdAccount("1132", "应收利息", "Interest receivable", "asset"),
    StdAccount("1221", "其他应收款", "Other receivables", "asset"),
    StdAccount("1401", "材料采购", "Materials purchasing", "asset"),
    StdAccount("1402", "在途物资", "Goods in transit", "asset"),
    StdAccount("1403", "原材料", "Raw materials", "asset"),
    StdAccount("1405", "库存商品", "Inventory (goods)", "asset"),
    StdAccount("1411", "周转材料", "Revolving materials", "asset"),
    StdAccount("1601", "固定资产", "Fixed assets", "asset"),
    StdAccount("1602", "累计折旧", "Accumulated depreciation", "asset"),
    StdAccount("1604", "在建工程", "Construction in progress", "asset"),
    StdAccount("1701", "无形资产", "Intangible assets", "asset"),
    StdAccount("1702", "累计摊销", "Accumulated amortisation", "asset"),
    StdAccount("1801", "长期待摊费用", "Long-term prepaid expenses", "asset"),
    StdAccount("1901", "待处理财产损溢", "Assets pending disposal", "asset"),
    StdAccount("2001", "短期借款", "Short-term loans", "liability"),
    StdAccount("2201", "应付票据", "Notes payable", "liability"),
    StdAccount("2202", "应付账款", "Accounts payable", "liability"),
    StdAccount("2203", "预收账款", "Advances from customers", "liability"),
    StdAccount("2211", "应付职工薪酬", "Payroll payable", "liability"),
    StdAccount("2221", "应交税费", "Taxes payable", "liability"),
    StdAccount("222101", "应交增值税", "VAT payable", "liability"),
    StdAccount("22210101", "进项税额", "Input VAT", "liability"),
    StdAccount("22210102", "销项税额", "Output VAT", "liability"),
    StdAccount("22210103", "进项税额转出", "Input VAT transferred out", "liability"),
    StdAccount("22210104", "已交税金", "VAT paid", "liability"),
    StdAccount("222102", "未交增值税", "Unpaid VAT", "liability"),
    StdAccount("222103", "应交城市维护建设税", "Urban maintenance tax payable", "liability"),
    StdAccount("222104", "应交教育费附加", "Education surcharge payable", "liability"),
    StdAccount("222105", "应交地方教育附加", "Local education surcharge payable", "liability"),
    StdAccount("222106", "应交企业所得税", "Corporate income tax payable", "liability"),
    StdAccount("222107", "应交个人所得税", "Individual income tax withheld", "liability"),
    StdAccount("2231", "应付利息", "Interest payable", "liability"),
    StdAccount("2232", "应付利润", "Profit payable", "liability"),
    StdAccount("2241", "其他应付款", "Other payables", "liability"),
    StdAccount("2401", "递延收益", "Deferred income", "liability"),
    StdAccount("2501", "长期借款", "Long-term loans", "liability"),
    StdAccount("3001", "实收资本", "Paid-in capital", "equity"),
    StdAccount("3002", "资本公积", "Capital reserve", "equity"),
    StdAccount("3101", "盈余公积", "Surplus reserve", "equity"),
    StdAccount("3103", "本年利润", "Current-year profit", "equity"),
    StdAccount("3104", "利润分配", "Profit distribution", "equity"),
    StdAccount("4001", "生产成本", "Production cost", "cost"),
    StdAccount("4101", "制造费用", "Manufacturing overhead", "cost"),
    StdAccount("4301", "研发支出", "R&D expenditure", "cost"),
    StdAccount("5001", "主营业务收入", "Main business revenue", "revenue"),
    StdAccount("5051", "其他业务收入", "Other business revenue", "revenue"),
    StdAccount("5111", "投资收益", "Investment income", "revenue"),
    StdAccount("5301", "营业外收入", "Non-operating income", "revenue"),
    StdAccount("5401", "主营业务成本", "Main business cost", "expense"),
    StdAccount("5402", "其他业务成本", "Other business cost", "expense"),
    StdAccount("5403", "税金及附加", "Taxes and surcharges", "expense"),
    StdAccount("5601", "销售费用", "Selling expenses", "expense"),
    StdAccount("560101", "广告费和业务宣传费", "Advertising and promotion", "expense"),
    StdAccount("560102", "运输费", "Freight", "expense"),
    StdAccount("5602", "管理费用", "Administrative expenses", "expense"),
    StdAccount("560201", "办公费", "Office expenses", "expense"),
    StdAccount("560202", "差旅费", "Travel", "expense"),
    StdAccount("560203", "业务招待费", "Business entertainment", "expense"),
    StdAccount("560204", "租赁费", "Rent", "expense"),
    StdAccount("560205", "水电费", "Utilities", "expense"),
    StdAccount("560206", "职工薪酬", "Salaries", "expense"),
    StdAccount("560207", "职工福利费", "Staff welfare", "expense"),
    StdAccount("560208", "职工教育经费", "Staff education", "expense"),
    StdAccount("560209", "工会经费", "Trade union funds", "expense"),
    StdAccount("560299", "其他管理费用", "Other administrative expenses", "expense"),
    StdAccount("5603", "财务费用", "Financial expenses", "expense"),
    StdAccount("560301", "手续费", "Bank and payment fees", "expense"),
    StdAccount("560302", "利息费用", "Interest expense", "expense"),
    StdAccount("5711", "营业外支出", "Non-operating expenses", "expense"),
    StdAccount("5801", "所得税费用", "Income tax expense", "expense"),
]


def parent_code(code: str, known: set[str]) -> str | None:
    """Sub-accounts add two digits to their parent's code (4 -> 6 -> 8)."""
    if len(code) <= 4:
        return None
    candidate = code[:-2]
    return candidate if candidate in known else None


def normal_side(account_type: str, code: str) -> str:
    debit = account_type in _DEBIT_TYPES
    if code in _CONTRA:
        debit = not debit
    return "debit" if debit else "credit"


class StdCategory(NamedTuple):
    key: str
    kind: str  # income | expense
    name: str
    name_en: str
    icon: str
    account_code: str


STANDARD_CATEGORIES: list[StdCategory] = [
    StdCategory("sales", "income", "销售收入", "Sales", "shop-o", "5001"),
    StdCategory("service", "income", "服务收入", "Services", "service-o", "5001"),
    StdCategory("other_income", "income", "其他收入", "Other income", "gold-coin-o", "5051"),
    StdCategory("purchase", "expense", "进货", "Purchases", "cart-o", "1405"),
    StdCategory("office", "expense", "办公", "Office", "records-o", "560201"),
    StdCategory("travel", "expense", "差旅交通", "Travel", "logistics", "560202"),
    StdCategory("meals", "expense", "餐饮招待", "Meals & entertainment", "hot-o", "560203"),
    StdCategory("rent", "expense", "房租", "Rent", "home-o", "560204"),
    StdCategory("utilities", "expense", "水电", "Utilities", "fire-o", "560205"),
    StdCategory("salary", "expense", "工资", "Salaries", "manager-o", "560206"),
    StdCategory("advertising", "expense", "广告宣传", "Advertising", "volume-o", "560101"),
    StdCategory("fees", "expense", "手续费", "Fees", "balance-o", "560301"),
    StdCategory("tax", "expense", "税费", "Taxes", "balance-list-o", "5403"),
    StdCategory("other", "expense", "其他支出", "Other expenses", "more-o", "560299"),
]

# How a quick record was paid (or where income arrived): the money account it books to.
PAYMENT_ACCOUNTS: dict[str, str] = {
    "cash": "1001",
    "bank": "1002",
    "wechat": "101201",
    "alipay": "101202",
}
