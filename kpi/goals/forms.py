"""Forms of the goal-table pages."""
from django import forms

from kpi.formatting import person_name

from .selectors import lead_candidates


class LeadForm(forms.Form):
    lead = forms.ModelChoiceField(label="项目负责人", queryset=None, required=False, empty_label="（不指定）")

    def __init__(self, *args, unit_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = lead_candidates(unit_id=unit_id)
        self.fields["lead"].label_from_instance = lambda user: (
            f"{person_name(user)}（{user.get_username()}）" if person_name(user) != user.get_username()
            else user.get_username()
        )
