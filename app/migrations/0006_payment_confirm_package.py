"""payment.confirm_package: WeChat Pay's `package_info` for a transfer waiting for the payee,
kept so the payee can confirm it later in the mini program (`wx.requestMerchantTransfer`).
"""

from peewee import TextField


def up(migrator, db):
    migrator.migrate(migrator.add_column("payment", "confirm_package", TextField(default="")))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("payment", "confirm_package"))
