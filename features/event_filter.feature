Feature: Only deletions of resources that held an exception are handled
  A compliance change is handled only when the resource held an exception (the previous
  evaluation carries one of the exception notes) and the new evaluation says the resource
  was deleted. Everything else is set aside. A report that cannot be read is tried again
  and finally parked for a person to look at: nothing is dropped silently.

  Background:
    Given the rule "sg-no-open-ingress" whose exceptions name one resource by its ID
    And account 111122223333 has an exception for "sg-0abc123" under "sg-no-open-ingress" in eu-west-1
    And the inventory shows the security group "sg-0abc123" of account 111122223333 in eu-west-1 as deleted

  Scenario Outline: A deletion of a resource that held an exception is handled
    When a report of the security group "sg-0abc123" in account 111122223333, eu-west-1 for "sg-no-open-ingress" says it went from "<before>" noted "<note>" to "NOT_APPLICABLE" noted "Resource was deleted."
    Then the outcome is "closed"

    Examples:
      | before        | note                                                               |
      | COMPLIANT     | This resource is an exception.                                     |
      | NON_COMPLIANT | This resource is an exception.                                     |
      | COMPLIANT     | Recorded exception has expired.                                    |
      | NON_COMPLIANT | Recorded exception has expired.                                    |
      | COMPLIANT     | Recorded exception has been deleted because of no recertification. |
      | NON_COMPLIANT | Recorded exception has been deleted because of no recertification. |

  Scenario Outline: Any other change is set aside and nothing is written
    When a report of the security group "sg-0abc123" in account 111122223333, eu-west-1 for "sg-no-open-ingress" says it went from "<before>" noted "<before note>" to "<after>" noted "<after note>"
    Then the outcome is "ignored"
    And the exception table is unchanged
    And the message is done with

    Examples: The resource did not hold an exception
      | before         | before note                    | after          | after note            |
      | COMPLIANT      | Ingress is restricted.         | NOT_APPLICABLE | Resource was deleted. |
      | COMPLIANT      | -                              | NOT_APPLICABLE | Resource was deleted. |
      | -              | -                              | NOT_APPLICABLE | Resource was deleted. |
      | NOT_APPLICABLE | This resource is an exception. | NOT_APPLICABLE | Resource was deleted. |
      | COMPLIANT      | this resource is an exception. | NOT_APPLICABLE | Resource was deleted. |

    Examples: The resource was not deleted
      | before    | before note                    | after         | after note                   |
      | COMPLIANT | This resource is an exception. | NON_COMPLIANT | Ingress 0.0.0.0/0 on port 22 |
      | COMPLIANT | This resource is an exception. | COMPLIANT     | Resource was deleted.        |
      | COMPLIANT | This resource is an exception. | NOT_APPLICABLE | -                           |
      | COMPLIANT | This resource is an exception. | NOT_APPLICABLE | The resource was deleted.   |

  Scenario Outline: Each environment handles only its own rules
    Given this environment's rule prefix is "<prefix>"
    And the rule "<rule>" whose exceptions name one resource by its ID
    And account 111122223333 has an exception for "sg-0abc123" under "<rule>" in eu-west-1
    When the deletion of the security group "sg-0abc123" in account 111122223333, eu-west-1 is reported for "<rule>"
    Then the outcome is "<outcome>"

    Examples:
      | prefix | rule                   | outcome |
      | DEV-   | DEV-sg-no-open-ingress | closed  |
      | DEV-   | QA-sg-no-open-ingress  | ignored |
      | DEV-   | dev-sg-no-open-ingress | ignored |
      | DEV-   | sg-no-open-ingress     | ignored |
      |        | QA-sg-no-open-ingress  | closed  |

  Scenario: A report for a rule the rules table does not know is set aside
    When the deletion of the security group "sg-0abc123" in account 111122223333, eu-west-1 is reported for "unknown-rule"
    Then the outcome is "ignored"
    And the reason names "rule not in the rules table"
    And the exception table is unchanged

  Scenario Outline: A report that cannot be read is tried again, then parked
    When a report arrives <defect>
    Then the outcome is "invalid"
    And the reason names "<reason>"
    And the message is retried later
    And the exception table is unchanged

    Examples:
      | defect                               | reason                      |
      | that is not JSON                     | not JSON                    |
      | without the resource                 | is missing                  |
      | without the account                  | is missing                  |
      | whose account is not 12 digits       | must be 12 digits           |
      | whose region is not a region name    | is not a region name        |
      | whose resource ID is empty           | is empty                    |
      | whose resource ID is too long        | longer than 1024 characters |
      | whose resource ID holds a line break | contains control characters |
      | whose details are not an object      | must be an object           |
