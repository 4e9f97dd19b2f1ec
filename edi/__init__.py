"""EDI engine: X12 and UN/EDIFACT reading, envelope and message validation, writing, acknowledging.

Modules, one job each: ``model`` (the parsed shape), ``tokenizer`` (chunked input),
``x12_reader`` / ``edifact_reader`` (segments), ``envelope`` (reading interchanges: the driver),
``builder`` (interchanges, groups, messages, counts and control numbers, for both standards) with
the standards' envelope rules in ``x12_envelope`` / ``edifact_envelope``, ``syntax`` (dates, times,
character sets), ``validator`` with the data in ``definitions/``, ``serializer`` (writing), ``acks``
(997/999/TA1/CONTRL), ``profiles`` (partner files), ``hooks`` (state injected from the hub store),
``errors``, ``cli`` (``waybill edi``).

Typical use::

    from waybill.edi.envelope import read_interchanges
    from waybill.edi.validator import validate

    for interchange in read_interchanges(path, registry=hub_registry, on_message=validate):
        print(interchange.accepted)
"""
