"""A few patient moves on Airflow 3.3's React UI: find, click, type, read a toast.

Every wait is on an element or a condition, with a generous upper bound; nothing sleeps a fixed
time to let the page "settle".
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.wait import WebDriverWait

WAIT = 60.0
TEST_RESULT_WAIT = 180.0
TOAST = "[data-scope='toast'][data-part='root']"


class AirflowUI:
    def __init__(self, driver: Any, base_url: str, shots: Path) -> None:
        self.driver = driver
        self.base_url = base_url
        self.shots = shots

    # -- finding ---------------------------------------------------------------------------
    def wait(self, condition: Any, what: str, timeout: float = WAIT) -> Any:
        return WebDriverWait(self.driver, timeout, ignored_exceptions=[StaleElementReferenceException]).until(
            condition, message=f"waited {timeout:.0f} s for {what}"
        )

    def find(self, xpath: str, timeout: float = WAIT) -> WebElement:
        element: WebElement = self.wait(ec.visibility_of_element_located((By.XPATH, xpath)), xpath, timeout)
        return element

    def click(self, xpath: str) -> None:
        """Click once the element takes the click: sections fold open with an animation, and
        a tooltip or a notification may lie on top for a moment; each is waited out."""
        self._click_when_free(lambda: self.find(xpath), xpath)

    def _click_when_free(self, locate: Any, what: str) -> None:
        def attempt(_: Any) -> bool:
            element = locate()
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
            try:
                element.click()
            except (ElementClickInterceptedException, ElementNotInteractableException):
                self.pointer_away()  # a tooltip shows where the pointer rests
                return False
            return True

        self.wait(attempt, f"{what} to take a click")

    def field(self, name: str) -> WebElement:
        return self.find(f"//*[@role='dialog']//*[self::input or self::textarea][@name='{name}']")

    def type_into(self, name: str, text: str) -> None:
        """Clear a field the way a user does (select all, delete) and paste ``text``."""
        self._click_when_free(lambda: self.field(name), name)
        element = self.field(name)
        element.send_keys(Keys.CONTROL, "a")
        element.send_keys(Keys.DELETE)
        # Pasted in one go, as a user pastes a PEM: Chrome's Input.insertText fires the same input
        # event a paste does. Typed key by key, a busy React form drops characters from long text.
        self.driver.execute_cdp_cmd("Input.insertText", {"text": text})
        # A form keeps a value the way it stores it: surrounding whitespace is not part of it.
        self.wait(
            lambda _: (self.field(name).get_attribute("value") or "").strip() == text.strip(),
            f"{name} to hold the {len(text)} characters typed",
        )

    def label_row(self, label: str) -> WebElement:
        """The form row (label, input, help) whose label reads ``label``."""
        return self.find(
            f"//*[@role='dialog']//*[@role='group'][.//label[normalize-space(text())={_xpath_str(label)}]]"
        )

    # -- toasts ----------------------------------------------------------------------------
    def _toast_states(self) -> dict[str, str]:
        """Toast id -> data-state, read in one go (toasts come and go while Python looks)."""
        states: dict[str, str] = self.driver.execute_script(
            "return Object.fromEntries(Array.from(document.querySelectorAll(arguments[0]))"
            ".map(e => [e.id, e.dataset.state || '']));",
            TOAST,
        )
        return states

    def toast_ids(self) -> set[str]:
        return set(self._toast_states())

    def _toasts(self) -> list[WebElement]:
        found: list[WebElement] = self.driver.find_elements(By.CSS_SELECTOR, TOAST)
        return found

    def next_toast(
        self, before: set[str], title_starts: str = "", timeout: float = TEST_RESULT_WAIT
    ) -> tuple[str, str, str]:
        """Wait for a toast, not there ``before``, whose title starts so; its (id, title, description)."""

        def fresh(_: Any) -> tuple[str, str, str] | bool:
            for root in self._toasts():
                toast_id = root.get_attribute("id") or ""
                if toast_id and toast_id not in before:
                    title = root.find_element(By.CSS_SELECTOR, "[data-part='title']").text
                    if not title.startswith(title_starts):
                        continue
                    parts = root.find_elements(By.CSS_SELECTOR, "[data-part='description']")
                    return toast_id, title, parts[0].text if parts else ""
            return False

        result: tuple[str, str, str] = self.wait(fresh, "a new toast", timeout)
        return result

    def settled(self, xpath: str) -> None:
        """Give an element up to 10 s to fade in completely, for a screenshot a user would see.

        Only the picture depends on it (a notification may already be fading on a slow machine),
        so running out of time here is not a failure.
        """
        with contextlib.suppress(TimeoutException):
            self.wait(
                lambda d: d.execute_script(
                    "const e = document.evaluate(arguments[0], document, null, 9, null).singleNodeValue;"
                    "return e !== null && getComputedStyle(e).opacity === '1';",
                    xpath,
                ),
                f"{xpath} to fade in",
                timeout=10,
            )

    def pointer_away(self) -> None:
        """Rest the pointer at the page's top left corner, where nothing pops up."""
        body = self.driver.find_element(By.TAG_NAME, "body")
        ActionChains(self.driver).move_to_element_with_offset(
            body, 8 - body.size["width"] // 2, 8 - body.size["height"] // 2
        ).perform()

    def no_toasts(self) -> None:
        """Wait for notifications to fade, for a clean screenshot.

        They fade after a few seconds, but not while the pointer rests on them (it does after a
        click on Save, at the same corner), so the pointer moves to the page's top left first.
        """
        self.pointer_away()
        self.wait(
            lambda _: all(state == "closed" for state in self._toast_states().values()),
            "notifications to fade",
            TEST_RESULT_WAIT,
        )

    # -- evidence --------------------------------------------------------------------------
    def shot(self, name: str, xpath: str | None = None) -> Path:
        """Screenshot the window, or the whole of one element (the window grows to fit it)."""
        path = self.shots / f"{name}.png"
        if xpath is None:
            self.driver.save_screenshot(str(path))
            return path
        size = self.driver.get_window_size()
        height = self.driver.execute_script(
            "return Math.max(document.body.scrollHeight, arguments[0].scrollHeight + 200);", self.find(xpath)
        )
        self.driver.set_window_size(size["width"], max(size["height"], int(height)))
        try:
            element = self.find(xpath)
            self.driver.execute_script("window.scrollTo(0, 0);")
            element.screenshot(str(path))
        finally:
            self.driver.set_window_size(size["width"], size["height"])
        return path


def _xpath_str(text: str) -> str:
    """``text`` as an XPath string literal (XPath 1.0 has no escapes)."""
    if "'" not in text:
        return f"'{text}'"
    return "concat(" + ', "\'", '.join(f"'{part}'" for part in text.split("'")) + ")"


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
