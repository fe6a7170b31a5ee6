Feature: An exception on one resource, named by its ID
  An exception that names one resource by its ID is closed when the inventory confirms
  that exactly this resource was deleted, in the exception's own account and region.
  A closed exception stays in the table for the retention period, then the table drops it.

  Background:
    Given the rule "sg-no-open-ingress" whose exceptions name one resource by its ID

  Scenario Outline: Only the exact resource closes the exception, never a near miss
    Given account 111122223333 has an exception for "<key>" under "sg-no-open-ingress" in eu-west-1
    And the inventory shows the security group "<deleted>" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the security group "<deleted>" in account 111122223333, eu-west-1 is reported for "sg-no-open-ingress"
    Then the outcome is "<outcome>"
    And the exception for "<key>" of account 111122223333 under "sg-no-open-ingress" is <state>
    And the message is done with

    Examples:
      | key        | deleted    | outcome  | state      |
      | sg-0abc123 | sg-0abc123 | closed   | closed     |
      | db         | db-prod    | no-match | still open |
      | db-prod    | db         | no-match | still open |
      | sg-0abc12  | sg-0abc123 | no-match | still open |
      | SG-0ABC123 | sg-0abc123 | no-match | still open |

  Scenario Outline: An exception may name the resource by its name instead of its ID
    Given account 111122223333 has an exception for "<key>" under "sg-no-open-ingress" in eu-west-1
    And the inventory shows the security group "sg-0abc123" named "<name>" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the security group "sg-0abc123" in account 111122223333, eu-west-1 is reported for "sg-no-open-ingress"
    Then the outcome is "<outcome>"
    And the exception for "<key>" of account 111122223333 under "sg-no-open-ingress" is <state>

    Examples:
      | key        | name   | outcome  | state      |
      | web-sg     | web-sg | closed   | closed     |
      | web        | web-sg | no-match | still open |
      | web-sg-old | web-sg | no-match | still open |

  Scenario Outline: The inventory must confirm the deletion before anything is closed
    Given account 111122223333 has an exception for "sg-0abc123" under "sg-no-open-ingress" in eu-west-1
    And the inventory shows the security group "sg-0abc123" of account 111122223333 in eu-west-1 as <state>
    When the deletion of the security group "sg-0abc123" in account 111122223333, eu-west-1 is reported for "sg-no-open-ingress"
    Then the outcome is "not-confirmed"
    And the exception table is unchanged
    And the message is done with

    Examples:
      | state          |
      | still existing |
      | unknown        |

  Scenario: A closed exception says who closed it, when, and how long it stays
    Given closed exceptions are kept for 30 days
    And account 111122223333 has an exception for "sg-0abc123" under "sg-no-open-ingress" in eu-west-1
    And the inventory shows the security group "sg-0abc123" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the security group "sg-0abc123" in account 111122223333, eu-west-1 is reported for "sg-no-open-ingress"
    Then the outcome is "closed"
    And the exception for "sg-0abc123" of account 111122223333 under "sg-no-open-ingress" is closed
    And the exception for "sg-0abc123" of account 111122223333 under "sg-no-open-ingress" stays in the table 30 days after it was closed
    And the history of the exception for "sg-0abc123" of account 111122223333 under "sg-no-open-ingress" names the report that closed it

  Scenario: The same report delivered twice changes nothing the second time
    Given account 111122223333 has an exception for "sg-0abc123" under "sg-no-open-ingress" in eu-west-1
    And the inventory shows the security group "sg-0abc123" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the security group "sg-0abc123" in account 111122223333, eu-west-1 is reported for "sg-no-open-ingress"
    And the same report is delivered again
    Then the outcomes are "closed, duplicate"
    And the exception table is unchanged
    And the message is done with

  Scenario: An exception closed earlier is not closed again
    Given account 111122223333 has a closed exception for "sg-0abc123" under "sg-no-open-ingress" in eu-west-1
    And the inventory shows the security group "sg-0abc123" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the security group "sg-0abc123" in account 111122223333, eu-west-1 is reported for "sg-no-open-ingress"
    Then the outcome is "duplicate"
    And the exception table is unchanged

  Scenario: A deletion in one account never touches another account's exception
    Given account 111122223333 has an exception for "sg-0abc123" under "sg-no-open-ingress" in eu-west-1
    And account 444455556666 has an exception for "sg-0abc123" under "sg-no-open-ingress" in eu-west-1
    And the inventory shows the security group "sg-0abc123" of account 111122223333 in eu-west-1 as deleted
    And the inventory shows the security group "sg-0abc123" of account 444455556666 in eu-west-1 as still existing
    When the deletion of the security group "sg-0abc123" in account 111122223333, eu-west-1 is reported for "sg-no-open-ingress"
    Then the outcome is "closed"
    And the exception for "sg-0abc123" of account 111122223333 under "sg-no-open-ingress" is closed
    And the exception for "sg-0abc123" of account 444455556666 under "sg-no-open-ingress" is still open

  Scenario: A deletion in one region does not close an exception of another region
    Given account 111122223333 has an exception for "sg-0abc123" under "sg-no-open-ingress" in us-east-1
    And the inventory shows the security group "sg-0abc123" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the security group "sg-0abc123" in account 111122223333, eu-west-1 is reported for "sg-no-open-ingress"
    Then the outcome is "no-match"
    And the exception for "sg-0abc123" of account 111122223333 under "sg-no-open-ingress" is still open

  Scenario: When the inventory cannot be reached, the report is tried again later
    Given account 111122223333 has an exception for "sg-0abc123" under "sg-no-open-ingress" in eu-west-1
    And the inventory cannot be reached
    When the deletion of the security group "sg-0abc123" in account 111122223333, eu-west-1 is reported for "sg-no-open-ingress"
    Then the outcome is "failed"
    And the message is retried later
    And the exception table is unchanged

  Scenario: A dry run says what it would close and writes nothing
    Given the dry run is on
    And account 111122223333 has an exception for "sg-0abc123" under "sg-no-open-ingress" in eu-west-1
    And the inventory shows the security group "sg-0abc123" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the security group "sg-0abc123" in account 111122223333, eu-west-1 is reported for "sg-no-open-ingress"
    Then the outcome is "closed"
    And the reason names "would be closed"
    And the exception table is unchanged
