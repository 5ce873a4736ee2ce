from django.core.management.base import BaseCommand

from counties.writes.roles import ensure_roles


class Command(BaseCommand):
    help = "Create or update the staff roles (permission groups). `migrate` runs this too."

    def handle(self, *args: object, **options: object) -> None:
        for name, count in ensure_roles().items():
            self.stdout.write(f"{name}: {count} permissions")
