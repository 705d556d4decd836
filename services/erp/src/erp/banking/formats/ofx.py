"""OFX bank statements, 1.x (SGML) and 2.x (XML), read with `ofxtools`: each STMTRS is a statement of the account
in BANKACCTFROM; each STMTTRN a line (FITID is the bank's reference, NAME the counterparty, MEMO the text). OFX
gives only the ledger balance at the end (LEDGERBAL): the opening balance is that less the lines, so the chain
to the previous statement is what checks an OFX file."""

from decimal import Decimal
from io import BytesIO

from ofxtools.Parser import OFXTree

from .model import ParsedLine, ParsedStatement, StatementError


def looks_like(head: bytes) -> bool:
    return b"OFXHEADER" in head or b"<OFX>" in head.upper()


def parse(data: bytes) -> list[ParsedStatement]:
    tree = OFXTree()
    try:
        tree.parse(BytesIO(data))
        ofx = tree.convert()
    except Exception as e:  # noqa: BLE001 - ofxtools raises ValueError, KeyError, its own errors...
        raise StatementError(f"not a valid OFX file: {e}") from None
    statements = []
    for st in getattr(ofx, "statements", []) or []:
        if not hasattr(st, "banktranlist") or st.banktranlist is None:
            continue
        if st.ledgerbal is None:
            raise StatementError(f"statement of account {st.account.acctid} has no LEDGERBAL")
        lines = []
        for tr in st.banktranlist:
            if tr.trnamt == 0:
                continue
            lines.append(ParsedLine(
                booking_date=tr.dtposted.date(), value_date=tr.dtavail.date() if tr.dtavail else None,
                amount=tr.trnamt, currency=st.curdef, bank_reference=tr.fitid,
                counterparty_name=tr.name,
                remittance=tr.memo, end_to_end_id=getattr(tr, "refnum", None)))
        closing = st.ledgerbal.balamt
        statement = ParsedStatement(
            format="ofx", currency=st.curdef, account=st.account.acctid, from_date=st.banktranlist.dtstart.date(),
            to_date=st.banktranlist.dtend.date(), closing_balance=closing,
            opening_balance=closing - sum((x.amount for x in lines), Decimal("0")), lines=lines)
        statements.append(statement)
    if not statements:
        raise StatementError("the OFX file holds no bank statement (STMTRS)")
    return statements
