Feature: An exception on one resource, named by its ARN
  An ARN names the deleted resource when it is well formed, its account is the report's
  account (or empty), its region is the report's region (or empty, for global services
  such as buckets and roles), and its last part, after the last "/" or else the last ":",
  is exactly the resource's ID or name.

  Background:
    Given the rule "s3-bucket-logging" whose exceptions name one resource by its ARN

  Scenario Outline: An ARN with or without region and account names the bucket
    Given account 111122223333 has an exception for "<arn>" under "s3-bucket-logging" in eu-west-1
    And the inventory shows the bucket "my-bucket" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the bucket "my-bucket" in account 111122223333, eu-west-1 is reported for "s3-bucket-logging"
    Then the outcome is "<outcome>"
    And the exception for "<arn>" of account 111122223333 under "s3-bucket-logging" is <state>

    Examples: Exact
      | arn                                         | outcome | state  |
      | arn:aws:s3:::my-bucket                      | closed  | closed |
      | arn:aws:s3:eu-west-1::my-bucket             | closed  | closed |
      | arn:aws:s3::111122223333:my-bucket          | closed  | closed |
      | arn:aws:s3:eu-west-1:111122223333:my-bucket | closed  | closed |

    Examples: Near misses and other places
      | arn                                 | outcome  | state      |
      | arn:aws:s3:::my-bucket-logs         | no-match | still open |
      | arn:aws:s3:::my-bucke               | no-match | still open |
      | arn:aws:s3:us-east-1::my-bucket     | no-match | still open |
      | arn:aws:s3::444455556666:my-bucket  | no-match | still open |
      | arn:aws:s3::1111:my-bucket          | no-match | still open |
      | my-bucket                           | no-match | still open |
      | arn:aws:s3:::my-bucket/archive      | no-match | still open |

  Scenario Outline: The resource's part of the ARN is what follows the last "/" or ":"
    Given account 111122223333 has an exception for "<arn>" under "s3-bucket-logging" in eu-west-1
    And the inventory shows the <kind> "<resource>" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the <kind> "<resource>" in account 111122223333, eu-west-1 is reported for "s3-bucket-logging"
    Then the outcome is "<outcome>"

    Examples:
      | arn                                                         | kind           | resource | outcome  |
      | arn:aws:ec2:eu-west-1:111122223333:security-group/sg-1      | security group | sg-1     | closed   |
      | arn:aws:ec2:eu-west-1:111122223333:security-group/sg-1      | security group | sg-10    | no-match |
      | arn:aws:rds:eu-west-1:111122223333:db:db-prod               | database       | db-prod  | closed   |
      | arn:aws:rds:eu-west-1:111122223333:db:db-prod               | database       | db       | no-match |
      | arn:aws:rds:eu-west-1:111122223333:db:db                    | database       | db-prod  | no-match |

  Scenario Outline: A role's ARN names it by the name the inventory knows it by
    Given account 111122223333 has an exception for "arn:aws:iam::111122223333:role/team/app-role" under "s3-bucket-logging" in eu-west-1
    And the inventory shows the role "AROAEXAMPLEID" named "<name>" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the role "AROAEXAMPLEID" in account 111122223333, eu-west-1 is reported for "s3-bucket-logging"
    Then the outcome is "<outcome>"
    And the exception for "arn:aws:iam::111122223333:role/team/app-role" of account 111122223333 under "s3-bucket-logging" is <state>

    Examples:
      | name         | outcome  | state      |
      | app-role     | closed   | closed     |
      | app          | no-match | still open |
      | app-role-old | no-match | still open |

  Scenario: A bucket that still exists keeps its exception
    Given account 111122223333 has an exception for "arn:aws:s3:::my-bucket" under "s3-bucket-logging" in eu-west-1
    And the inventory shows the bucket "my-bucket" of account 111122223333 in eu-west-1 as still existing
    When the deletion of the bucket "my-bucket" in account 111122223333, eu-west-1 is reported for "s3-bucket-logging"
    Then the outcome is "not-confirmed"
    And the exception table is unchanged

  Scenario: The same report twice closes the exception once
    Given account 111122223333 has an exception for "arn:aws:s3:::my-bucket" under "s3-bucket-logging" in eu-west-1
    And the inventory shows the bucket "my-bucket" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the bucket "my-bucket" in account 111122223333, eu-west-1 is reported for "s3-bucket-logging"
    And the same report is delivered again
    Then the outcomes are "closed, duplicate"
    And the exception table is unchanged
    And the history of the exception for "arn:aws:s3:::my-bucket" of account 111122223333 under "s3-bucket-logging" names the report that closed it
