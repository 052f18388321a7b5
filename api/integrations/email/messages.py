"""The texts of the emails the platform sends."""

from __future__ import annotations

from api.integrations.email.mailer import OutgoingEmail


def verification(to: str, username: str, link: str, hours: int) -> OutgoingEmail:
    return OutgoingEmail(
        to=to,
        subject="Verify your Peerlend email address",
        body=(
            f"Hello {username},\n\n"
            f"Please confirm this email address to start borrowing or investing on Peerlend:\n\n{link}\n\n"
            f"The link works once and expires in {hours} hours. If you did not sign up, ignore this email.\n"
        ),
    )


def password_reset(to: str, username: str, link: str, minutes: int) -> OutgoingEmail:
    return OutgoingEmail(
        to=to,
        subject="Reset your Peerlend password",
        body=(
            f"Hello {username},\n\n"
            f"Someone asked to reset your Peerlend password. To choose a new one, use:\n\n{link}\n\n"
            f"The link works once and expires in {minutes} minutes. If it was not you, ignore this email;"
            " your password is unchanged.\n"
        ),
    )


def password_changed(to: str, username: str) -> OutgoingEmail:
    return OutgoingEmail(
        to=to,
        subject="Your Peerlend password was changed",
        body=(
            f"Hello {username},\n\nYour password was just changed and your other sessions were signed out. "
            "If this was not you, reset your password at once.\n"
        ),
    )
