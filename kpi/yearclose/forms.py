"""年度关账: closing a unit's year (its goal tables become read-only) and reopening it with a reason."""
from django import forms

from .services import FORCE_LABEL


class CloseForm(forms.Form):
    """关账 — with the explicit word of the administrator when reports still wait for review."""

    force = forms.BooleanField(label=FORCE_LABEL, required=False)


class ReopenForm(forms.Form):
    reason = forms.CharField(label="重新开放原因", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
