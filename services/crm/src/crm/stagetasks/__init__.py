"""Stage tasks: task templates on pipeline stages, created on a deal entering the stage; estimate requests."""
