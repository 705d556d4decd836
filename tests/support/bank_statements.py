"""Test helpers for banking (not shipped with the service): a camt.053.001.02 statement written from a list of
entries, as a bank would send it for the scenario a test tells, and a customer with a name of the test's choice."""

import random
import uuid
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape

from schwifty import IBAN
from shared_events.testing import party_state


def customer(deliver, name: str, roles: tuple[str, ...] = ("customer",)) -> dict:
    state = party_state(display_name=name, legal_name=name, version=1, roles=list(roles),
                        billing_address={"line1": "1 Main Street", "postal_code": "10001", "city": "Springfield",
                                         "country": "FR"})
    assert deliver("created", state)[0] == "applied"
    return state


def fresh_iban() -> str:
    """A valid IBAN no other test run used: what the ERP learns of a payer stays in the database."""
    return str(IBAN.generate("DE", bank_code="37040044", account_code=str(random.randint(10**9, 10**10 - 1))))


def _party(tag: str, name: str | None, iban: str | None) -> str:
    if not name and not iban:
        return ""
    account = f"<{tag}Acct><Id><IBAN>{iban}</IBAN></Id></{tag}Acct>" if iban else ""
    return f"<RltdPties><{tag}><Nm>{escape(name or '')}</Nm></{tag}>{account}</RltdPties>"


def camt053(iban: str, sequence: int, opening: str, entries: list[dict], day: date) -> bytes:
    """entries: {amount (signed), name, iban, rf (structured reference), text (unstructured), ref (bank ref)}."""
    total = Decimal(opening)
    body = []
    for e in entries:
        amount = Decimal(e["amount"])
        total += amount
        money_in = amount > 0
        remittance = ""
        if e.get("rf"):
            remittance = (f"<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
                          f"<Ref>{e['rf']}</Ref></CdtrRefInf></Strd></RmtInf>")
        elif e.get("text"):
            remittance = f"<RmtInf><Ustrd>{escape(e['text'])}</Ustrd></RmtInf>"
        booked = e.get("date", day).isoformat()
        body.append(f"""
      <Ntry>
        <Amt Ccy="EUR">{abs(amount):.2f}</Amt><CdtDbtInd>{'CRDT' if money_in else 'DBIT'}</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>{booked}</Dt></BookgDt><ValDt><Dt>{booked}</Dt></ValDt>
        <AcctSvcrRef>{e.get('ref') or uuid.uuid4().hex[:16].upper()}</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{'RCDT' if money_in else 'ICDT'}</Cd><SubFmlyCd>ESCT</SubFmlyCd>
          </Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
          {_party('Dbtr' if money_in else 'Cdtr', e.get('name'), e.get('iban'))}{remittance}
        </TxDtls></NtryDtls>
      </Ntry>""")
    sign = lambda v: ("CRDT" if v >= 0 else "DBIT", f"{abs(v):.2f}")  # noqa: E731
    (o_side, o_amt), (c_side, c_amt) = sign(Decimal(opening)), sign(total)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>MSG-{sequence}</MsgId><CreDtTm>{day.isoformat()}T06:00:00+01:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>STMT-{sequence}</Id><ElctrncSeqNb>{sequence}</ElctrncSeqNb><CreDtTm>{day.isoformat()}T06:00:00+01:00</CreDtTm>
      <Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{o_amt}</Amt><CdtDbtInd>{o_side}</CdtDbtInd>
        <Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{c_amt}</Amt><CdtDbtInd>{c_side}</CdtDbtInd>
        <Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>{''.join(body)}
    </Stmt>
  </BkToCstmrStmt>
</Document>
""".encode()
