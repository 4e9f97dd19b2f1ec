"""The canonical customer model: types, validation, the Ref format, routes and insight maths. Pure."""
