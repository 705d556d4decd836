"""Settings are read once and checked at start-up: a value a service cannot use stops the command before it does
anything, with a message naming the variable."""

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from crm.config import Settings as CrmSettings
from erp.config import Settings as ErpSettings
from servicekit.config import SettingError

BIN = Path(sys.executable).parent


@pytest.mark.parametrize(("service", "name", "value", "must"), [
    ("crm", "CRM_SMTP_PORT", "smtp", "a whole number from 1 to 65535"),
    ("crm", "CRM_SMTP_PORT", "70000", "a whole number from 1 to 65535"),
    ("crm", "CRM_SMTP_STARTTLS", "maybe", "true or false"),
    ("crm", "CRM_SMTP_TIMEOUT", "-1", "a number, at least 0.1"),
    ("crm", "ERP_PUBLIC_URL", "erp.example.com", "an http:// or https:// URL"),
    ("crm", "CRM_SESSION_TTL_HOURS", "0", "a whole number from 1"),
    ("erp", "PURCHASING_PRICE_TOLERANCE", "lots", "a decimal number, at least 0"),
    ("erp", "PURCHASING_PRICE_TOLERANCE_PERCENT", "-5", "a decimal number, at least 0"),
    ("erp", "ERP_OVERDUE_INTERVAL_MINUTES", "0", "a whole number from 1"),
    ("erp", "ERP_TRUSTED_PROXIES", "-1", "a whole number from 0 to 10"),
    ("erp", "CRM_PUBLIC_URL", "ftp://crm", "an http:// or https:// URL"),
])
def test_a_bad_value_stops_the_command_naming_the_variable(service, name, value, must):
    # `migrate` would need a database: the refusal comes first, so none is needed here
    done = subprocess.run([str(BIN / service), "migrate"], env={"PATH": str(BIN), name: value},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"{service}: {name}={value!r}: must be {must}" in done.stderr


def test_the_settings_carry_checked_values(monkeypatch):
    monkeypatch.setenv("PURCHASING_PRICE_TOLERANCE", "0.05")
    monkeypatch.setenv("ERP_SALES_WAREHOUSE", "  MAIN ")
    monkeypatch.setenv("CRM_SMTP_STARTTLS", "Yes")
    monkeypatch.setenv("ERP_PUBLIC_URL", "https://erp.example.com/")
    erp, crm = ErpSettings.from_env(), CrmSettings.from_env()
    assert (erp.price_tolerance, erp.price_tolerance_percent, erp.sales_warehouse) == (Decimal("0.05"), 0, "MAIN")
    assert crm.smtp_starttls is True and crm.erp_public_url == "https://erp.example.com"


def test_an_empty_value_is_the_default(monkeypatch):
    monkeypatch.setenv("CRM_SMTP_PORT", "")
    assert CrmSettings.from_env().smtp_port == 1025
    monkeypatch.setenv("CRM_SMTP_PORT", "0")
    with pytest.raises(SettingError, match="CRM_SMTP_PORT"):
        CrmSettings.from_env()
