"""The staff site: Django's admin for every record, one module per domain (`base` holds what they
share, `site` the site itself).

Nothing is imported here: this package also holds the default site's class, which Django imports
while it builds the site, so a module registering models from here would register them on a site
that is then thrown away. `counties.apps.RegistryAdminConfig.ready` imports the domain modules.
"""
