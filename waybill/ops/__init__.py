"""Operations: the command line, the Airflow home, task callbacks and the demo."""
