"""Airflow's plugins folder entry for Waybill's page (waybill.ops.plugin): wiring only, like dags/."""

from waybill.ops.plugin import WaybillPlugin

__all__ = ["WaybillPlugin"]
