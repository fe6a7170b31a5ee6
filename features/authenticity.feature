Feature: Only genuine reports from admitted accounts are acted upon
  The sender of a report (set by the event bus) must be the account and region the report
  is about, and, when an allow-list is set, the account must be on it. A report that
  fails these checks is rejected: it is logged and counted, nothing is read from the
  inventory for it, and nothing is written.

  Background:
    Given the rule "sg-no-open-ingress" whose exceptions name one resource by its ID
    And account 111122223333 has an exception for "sg-0abc123" under "sg-no-open-ingress" in eu-west-1
    And account 999988887777 has an exception for "sg-0abc123" under "sg-no-open-ingress" in eu-west-1
    And the inventory shows the security group "sg-0abc123" of account 111122223333 in eu-west-1 as deleted
    And the inventory shows the security group "sg-0abc123" of account 999988887777 in eu-west-1 as deleted

  Scenario Outline: The sender must be the account and region the report is about
    When the deletion of the security group "sg-0abc123" in account 111122223333, eu-west-1 is reported for "sg-no-open-ingress" by account <sender> from <sender region>
    Then the outcome is "<outcome>"
    And the message is done with
    And the exception for "sg-0abc123" of account 111122223333 under "sg-no-open-ingress" is <state>
    And the exception for "sg-0abc123" of account 999988887777 under "sg-no-open-ingress" is still open

    Examples:
      | sender       | sender region | outcome  | state      |
      | 111122223333 | eu-west-1     | closed   | closed     |
      | 999988887777 | eu-west-1     | rejected | still open |
      | 111122223333 | us-east-1     | rejected | still open |
      | 999988887777 | us-east-1     | rejected | still open |

  Scenario: A forged sender is rejected with the reason
    When the deletion of the security group "sg-0abc123" in account 111122223333, eu-west-1 is reported for "sg-no-open-ingress" by account 999988887777 from eu-west-1
    Then the outcome is "rejected"
    And the reason names "999988887777"
    And the exception table is unchanged

  Scenario Outline: With an allow-list, only the listed accounts are acted upon
    Given only accounts "<allowed>" may send reports
    When the deletion of the security group "sg-0abc123" in account <account>, eu-west-1 is reported for "sg-no-open-ingress"
    Then the outcome is "<outcome>"
    And the exception for "sg-0abc123" of account <account> under "sg-no-open-ingress" is <state>

    Examples:
      | allowed                     | account      | outcome  | state      |
      | 111122223333                | 111122223333 | closed   | closed     |
      | 111122223333                | 999988887777 | rejected | still open |
      | 111122223333,999988887777   | 999988887777 | closed   | closed     |
      | 444455556666                | 111122223333 | rejected | still open |
