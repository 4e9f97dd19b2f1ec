-- The hub store's database, next to Airflow's metadata database (created by POSTGRES_DB).
CREATE DATABASE waybill OWNER airflow;
