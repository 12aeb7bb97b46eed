"""The display reads' records are filled by position: their fields must be the statements'
columns, in order, or a read would put values under the wrong names."""

from __future__ import annotations

import pytest

from services.accounts.data import reads
from services.accounts.data.reads import CustomerRecord, HoldRecord, InvoiceRecord


def test_records_name_the_columns_of_their_statements_in_order():
    assert list(CustomerRecord._fields) == list(reads.CUSTOMER.selected_columns.keys())
    assert list(InvoiceRecord._fields) == list(reads.INVOICE.selected_columns.keys())
    assert list(HoldRecord._fields) == list(reads.HOLDS.selected_columns.keys())


@pytest.mark.parametrize("with_legal", [False, True])  # a Legal-only caller's pages too
def test_list_pages_select_the_same_columns_as_the_single_reads(with_legal):
    shape = ((), "create_time", False)
    customers = reads._customers_page(shape, with_legal).selected_columns.keys()
    invoices = reads._invoices_page(shape, with_legal).selected_columns.keys()
    assert list(customers) == list(CustomerRecord._fields)
    assert list(invoices) == list(InvoiceRecord._fields)
