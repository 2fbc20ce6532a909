from django import forms


class ReopenForm(forms.Form):
    reason = forms.CharField(label="重新开放原因", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
