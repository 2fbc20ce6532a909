"""Small goal-table documents written for the tests (no published text is copied): a made-up training
project of one made-up unit in the tab layout, its header block and its four indicators (weights 90)."""

T = "\t".join
HEADER9 = ["一级指标", "二级指标", "三级指标", "指标值", "指标值设置依据", "上年完成值", "指标分值权重", "指标赋分规则", "佐证资料"]
HEADER = T(HEADER9)

# Four indicators of a made-up training project, weights summing to 90.
ROWS = [
    ["产出指标", "数量指标", "培训人次", ">=100人次", "计划标准", "90人次", "30", "按照完成比例赋分", "工作资料"],
    ["", "质量指标", "考核合格率", "=100%", "行业标准", "/", "30", "直接赋分", "说明材料"],
    ["效益指标", "社会效益指标", "服务水平", "有效提升", "计划标准", "/", "20", "按评判等级赋分", "工作资料"],
    ["满意度指标", "满意度指标", "学员满意度", ">=95%", "计划标准", "/", "10", "满意度赋分", "问卷调查"],
]


def head(name="培训项目", *, title="项目支出绩效目标表", project_label="项目名称", total="12.50"):
    """The header block of a tab-layout project table: the first indicator row is line 7."""
    return [
        title,
        "(2024 年)",
        T(["预算单位", "", "某某县人力资源服务中心"]),
        T([project_label, "", name, "", "项目负责人", "赵六"]),
        T(["项目资金（万元）", "", "年度预算总额", total, "其中：财政拨款", total, "其他资金", "0"]),
        HEADER,
    ]


def table_text(*rows, **header) -> str:
    return "\n".join([*head(**header), *(T(r) if isinstance(r, list) else r for r in rows)])
