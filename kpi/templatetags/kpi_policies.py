"""Which scoring policy a scorecard's scores come from, by its Chinese name (默认评分政策, “新疆2026（第2版）”).

- ``{{ total.policy_version|policy_name }}``: a stored version by its name;
- ``{% scores_policies indicators total pending_total %}``: the versions a table's stored scores went
  through (each indicator's `scores_newest_first`, as the scorecard selectors prefetch them, and the
  totals): no query;
- ``{% table_policy table as policy %}``: the `kpi.scoring.Policy` a table is scored under now (one query;
  the default for no table): ``{{ policy.name }}``, ``{{ policy.execution_weight }}``;
- ``{% execution_points policy budget executed %}``: 预算执行率得分 under that policy (no query);
- ``{% tables_policies tables %}``: the names of the policies several tables are scored under (one query).
"""
from django import template

from kpi import scoring
from kpi.rescoring.selectors import policies_by_table

register = template.Library()


@register.filter
def policy_name(version) -> str:
    return scoring.policy_name(version or "")


@register.simple_tag
def scores_policies(indicators, *totals) -> str:
    versions = [score.policy_version for indicator in indicators or ()
                for score in getattr(indicator, "scores_newest_first", ())]
    versions += [total.policy_version for total in totals if total is not None]
    return scoring.policy_names(sorted(set(versions)))


@register.simple_tag
def table_policy(table) -> scoring.Policy:
    if table is None:
        return scoring.DEFAULT_POLICY
    return policies_by_table([table])[table.pk]


@register.simple_tag
def execution_points(policy, budget, executed):
    """The execution points under the policy's weight (None when the rate is undefined or nothing is executed)."""
    try:
        return scoring.score_execution(budget=budget, executed=executed, weight=policy.execution_weight,
                                       whole_points=policy.whole_points).points
    except scoring.ScoringError:
        return None


@register.simple_tag
def tables_policies(tables) -> str:
    tables = list(tables or ())
    if not tables:
        return ""
    return "、".join(sorted({policy.name for policy in policies_by_table(tables).values()}))
