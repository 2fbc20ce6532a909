"""The token page's form: a name and read-only or read-write."""
from django import forms

from .models import AccessToken


class TokenForm(forms.Form):
    name = forms.CharField(label="名称（用途）", max_length=100,
                           error_messages={"required": "请填写令牌名称，如“预算系统同步”。",
                                           "max_length": "名称最多 100 个字。"})
    access = forms.ChoiceField(label="权限", choices=AccessToken.Access.choices, initial=AccessToken.Access.READ,
                               widget=forms.RadioSelect,
                               error_messages={"required": "请选择只读或读写。",
                                               "invalid_choice": "请选择只读或读写。"})
